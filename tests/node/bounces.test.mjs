// Drives Mailroom's Bounce and Suppressions APIs with Postmark's official Node client (postmark 4.x).
// Run by tests/Mailroom.Tests/Api/NodeClientBouncesTests.cs against a real `mailroom serve`, after the xunit side
// made one hard bounce (a send the loopback sink refused with 550 5.1.1):
//   HOST=127.0.0.1:5080 SERVER_TOKEN=... BOUNCED=gone@example.net node tests/node/bounces.test.mjs
// Exits non-zero on the first failed assertion.
import assert from "node:assert/strict";
import { required, serverClient, rejectsWith } from "./common.mjs";

const [token, bounced] = required("SERVER_TOKEN", "BOUNCED");
const client = serverClient(token);

// ---- Delivery statistics ----
const stats = await client.getDeliveryStatistics();
assert.equal(stats.InactiveMails, 1);
assert.equal(stats.Bounces[0].Name, "All");
assert.equal(stats.Bounces[0].Count, 1);
assert.equal(stats.Bounces[0].Type, undefined);
assert.deepEqual(stats.Bounces[1], { Type: "HardBounce", Name: "Hard bounce", Count: 1 });

// ---- Bounces ----
const list = await client.getBounces({ count: 10, offset: 0 });
assert.equal(list.TotalCount, 1);
const b = list.Bounces[0];
assert.equal(b.RecordType, "Bounce");
assert.equal(typeof b.ID, "number");
assert.equal(b.Type, "HardBounce");
assert.equal(b.TypeCode, 1);
assert.equal(b.Name, "Hard bounce");
assert.equal(b.Email, bounced);
assert.equal(b.MessageStream, "outbound");
assert.equal(typeof b.ServerID, "number");
assert.match(b.MessageID, /^[0-9a-f-]{36}$/);
assert.equal(typeof b.Description, "string");
assert.match(b.Details, /5\.1\.1/);
assert.equal(b.Inactive, true);
assert.equal(b.CanActivate, true);
assert.equal(b.DumpAvailable, false);
assert.ok(!Number.isNaN(Date.parse(b.BouncedAt)));
assert.equal(b.Content, undefined, "list items carry no Content");

const filtered = await client.getBounces({ count: 10, offset: 0, type: "SpamComplaint" });
assert.equal(filtered.TotalCount, 0);
const byEmail = await client.getBounces({ count: 10, offset: 0, emailFilter: bounced.split("@")[0], inactive: true });
assert.equal(byEmail.TotalCount, 1);

const one = await client.getBounce(b.ID);
assert.equal(one.ID, b.ID);
assert.equal(typeof one.Content, "string");
const dump = await client.getBounceDump(b.ID);
assert.equal(dump.Body, "");
await rejectsWith(client.getBounce(987654321), 1001);

// ---- Suppressions ----
let suppressions = await client.getSuppressions("outbound");
assert.deepEqual(suppressions.Suppressions.map((s) => [s.EmailAddress, s.SuppressionReason, s.Origin]), [[bounced, "HardBounce", "Recipient"]]);

const created = await client.createSuppressions("outbound", { Suppressions: [{ EmailAddress: "manual@example.net" }, { EmailAddress: "not an address" }] });
assert.deepEqual(created.Suppressions.map((s) => s.Status), ["Suppressed", "Failed"]);
assert.equal(created.Suppressions[0].Message, null);
suppressions = await client.getSuppressions("outbound", { suppressionReason: "ManualSuppression" });
assert.deepEqual(suppressions.Suppressions.map((s) => [s.EmailAddress, s.Origin]), [["manual@example.net", "Customer"]]);

const deleted = await client.deleteSuppressions("outbound", { Suppressions: [{ EmailAddress: "manual@example.net" }] });
assert.deepEqual(deleted.Suppressions.map((s) => s.Status), ["Deleted"]);
await rejectsWith(client.getSuppressions("no-such-stream"), 1226);

// ---- Activate: the hard bounce's suppression goes ----
const activated = await client.activateBounce(b.ID);
assert.equal(activated.Message, "OK");
assert.equal(activated.Bounce.ID, b.ID);
assert.equal(activated.Bounce.Inactive, false);
suppressions = await client.getSuppressions("outbound");
assert.equal(suppressions.Suppressions.length, 0);
assert.equal((await client.getDeliveryStatistics()).InactiveMails, 0);

console.log("all assertions passed");
