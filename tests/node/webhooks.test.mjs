// Drives Mailroom's Webhooks API with Postmark's official Node client (postmark 4.x): create, list (with the
// messageStream filter), get, edit (partial triggers), delete, and the errors it surfaces.
// Run by tests/Mailroom.Tests/Webhooks/NodeClientWebhooksTests.cs against a real `mailroom serve`:
//   HOST=127.0.0.1:5080 SERVER_TOKEN=... node tests/node/webhooks.test.mjs
// Exits non-zero on the first failed assertion.
import assert from "node:assert/strict";
import { required, serverClient, rejectsWith } from "./common.mjs";

const [token] = required("SERVER_TOKEN");
const client = serverClient(token);

const triggers = {
  Open: { Enabled: false, PostFirstOpenOnly: false },
  Click: { Enabled: false },
  Delivery: { Enabled: true },
  Bounce: { Enabled: true, IncludeContent: true },
  SpamComplaint: { Enabled: true, IncludeContent: false },
  SubscriptionChange: { Enabled: true },
};
const created = await client.createWebhook({
  Url: "https://hooks.example.com/postmark",
  MessageStream: "outbound",
  HttpAuth: { Username: "user", Password: "pass" },
  HttpHeaders: [{ Name: "X-Source", Value: "node" }],
  Triggers: triggers,
});
assert.equal(typeof created.ID, "number");
assert.equal(created.Url, "https://hooks.example.com/postmark");
assert.equal(created.MessageStream, "outbound");
assert.deepEqual(created.HttpAuth, { Username: "user", Password: "pass" });
assert.deepEqual(created.HttpHeaders, [{ Name: "X-Source", Value: "node" }]);
assert.deepEqual(created.Triggers, triggers); // every trigger comes back as sent

const second = await client.createWebhook({ Url: "https://hooks.example.com/broadcast", MessageStream: "broadcast",
  Triggers: { Bounce: { Enabled: true } } });
assert.equal(second.MessageStream, "broadcast");

const all = await client.getWebhooks();
assert.deepEqual(all.Webhooks.map((w) => w.ID).sort(), [created.ID, second.ID].sort());
const outbound = await client.getWebhooks({ messageStream: "outbound" });
assert.deepEqual(outbound.Webhooks.map((w) => w.ID), [created.ID]);

const got = await client.getWebhook(created.ID);
assert.deepEqual(got.Triggers, created.Triggers);
assert.equal(got.SigningSecret, undefined);

const edited = await client.editWebhook(created.ID, { Url: "https://hooks.example.com/v2", Triggers: { Delivery: { Enabled: false } } });
assert.equal(edited.Url, "https://hooks.example.com/v2");
assert.equal(edited.Triggers.Delivery.Enabled, false);
assert.equal(edited.Triggers.Bounce.Enabled, true, "triggers not given are unchanged");
assert.equal(edited.Triggers.Bounce.IncludeContent, true);
assert.equal(edited.HttpAuth.Username, "user");

await rejectsWith(client.createWebhook({ Url: "not-a-url" }), 1354);
await rejectsWith(client.createWebhook({ Url: "https://x.example.com/", MessageStream: "inbound" }), 1351);

const deleted = await client.deleteWebhook(created.ID);
assert.equal(deleted.ErrorCode, 0);
await rejectsWith(client.getWebhook(created.ID), 1352);
assert.deepEqual((await client.getWebhooks()).Webhooks.map((w) => w.ID), [second.ID]);

console.log("all assertions passed");
