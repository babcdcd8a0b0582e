// Drives Mailroom's inbound endpoints with Postmark's official Node client (postmark 4.x): inbound rule triggers
// (create, list, delete, errors), inbound message search with filters, details, retry of a failed message and bypass
// of a blocked one. Run by tests/Mailroom.Tests/Inbound/NodeClientInboundTests.cs against a real `mailroom serve`
// after it received one message whose hook answered 403 (Failed) and one from a blocked domain (Blocked):
//   HOST=127.0.0.1:5080 SERVER_TOKEN=... node tests/node/inbound.test.mjs
// Exits non-zero on the first failed assertion.
import assert from "node:assert/strict";
import { required, serverClient, rejectsWith } from "./common.mjs";

const [token] = required("SERVER_TOKEN");
const client = serverClient(token);

// Rules: the one the test made (blocked.example), plus two here.
const rule = await client.createInboundRuleTrigger({ Rule: "someone@spam.example" });
assert.equal(typeof rule.ID, "number");
assert.equal(rule.Rule, "someone@spam.example");
await client.createInboundRuleTrigger({ Rule: "spam.example" });
await rejectsWith(client.createInboundRuleTrigger({ Rule: "spam.example" }), 810);
let rules = await client.getInboundRuleTriggers({ count: 10, offset: 0 });
assert.equal(rules.TotalCount, 3);
assert.deepEqual(rules.InboundRules.map((r) => r.Rule), ["blocked.example", "someone@spam.example", "spam.example"]);
await client.deleteInboundRuleTrigger(rule.ID);
await rejectsWith(client.deleteInboundRuleTrigger(rule.ID), 812);
rules = await client.getInboundRuleTriggers({ count: 10, offset: 0 });
assert.equal(rules.TotalCount, 2);

// Messages: one Failed (the hook answered 403), one Blocked.
const all = await client.getInboundMessages({ count: 50, offset: 0 });
assert.equal(all.TotalCount, 2);
const failed = await client.getInboundMessages({ count: 50, offset: 0, status: "failed" });
assert.equal(failed.TotalCount, 1);
const f = failed.InboundMessages[0];
assert.equal(f.Status, "Failed");
assert.equal(f.From, "jane@sender.example");
assert.equal(f.Subject, "Help with order 42");
assert.equal(f.MailboxHash, "order-42");
assert.equal(f.MessageStream, "inbound");
const byHash = await client.getInboundMessages({ count: 50, offset: 0, mailboxHash: "order-42" });
assert.equal(byHash.TotalCount, 1);
const byFrom = await client.getInboundMessages({ count: 50, offset: 0, fromEmail: "spammer@blocked.example" });
assert.equal(byFrom.TotalCount, 1);
const blocked = await client.getInboundMessages({ count: 50, offset: 0, status: "blocked" });
assert.equal(blocked.TotalCount, 1);
const b = blocked.InboundMessages[0];

const details = await client.getInboundMessageDetails(f.MessageID);
assert.equal(details.MessageID, f.MessageID);
assert.equal(details.TextBody.trim(), "My order has not arrived.");
assert.ok(details.Headers.some((h) => h.Name === "Received-SPF"));
const blockedDetails = await client.getInboundMessageDetails(b.MessageID);
assert.equal(blockedDetails.BlockedReason, "Blocked by the inbound rule 'blocked.example'.");

// Retry the failed one, bypass the blocked one; each action only fits its own status.
await rejectsWith(client.retryInboundHookForMessage(b.MessageID), 703);
await rejectsWith(client.bypassBlockedInboundMessage(f.MessageID), 702);
const retried = await client.retryInboundHookForMessage(f.MessageID);
assert.equal(retried.ErrorCode, 0);
const bypassed = await client.bypassBlockedInboundMessage(b.MessageID);
assert.equal(bypassed.ErrorCode, 0);
await rejectsWith(client.getInboundMessageDetails("00000000-0000-0000-0000-000000000000"), 701);

console.log("all assertions passed");
