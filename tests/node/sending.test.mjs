// Sends through Mailroom's Email API with Postmark's official Node client (postmark 4.x) and reads the messages
// back through the Messages API. Run by tests/Mailroom.Tests/Api/NodeClientSendingTests.cs:
//   HOST=127.0.0.1:5080 SERVER_TOKEN=... FROM=app@mailroom.test node tests/node/sending.test.mjs
import assert from "node:assert/strict";
import * as postmark from "postmark";
import { required, serverClient } from "./common.mjs";

const [token, from] = required("SERVER_TOKEN", "FROM");
const client = serverClient(token);

const single = await client.sendEmail({
  From: `Shop <${from}>`,
  To: "jo@example.net",
  Subject: "Order shipped",
  TextBody: "Your order is on its way.",
  HtmlBody: "<p>Your order is on its way.</p>",
  Tag: "shipping",
  Metadata: { order: "1234" },
  Attachments: [new postmark.Models.Attachment("note.txt", Buffer.from("hello").toString("base64"), "text/plain")],
});
assert.equal(single.ErrorCode, 0);
assert.equal(single.Message, "OK");
assert.match(single.MessageID, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);

const batch = await client.sendEmailBatch([
  { From: from, To: "a@example.net", Subject: "One", TextBody: "1", Tag: "batch" },
  { From: from, To: "not-an-address", Subject: "Two", TextBody: "2" },
  { From: from, To: "c@example.net", Subject: "Three", HtmlBody: "<b>3</b>", Tag: "batch" },
]);
assert.equal(batch.length, 3);
assert.equal(batch[0].ErrorCode, 0);
assert.equal(batch[1].ErrorCode, 300);
assert.equal(batch[2].ErrorCode, 0);

await assert.rejects(client.sendEmail({ From: from, To: "x@example.net", TextBody: "x", MessageStream: "nope" }),
  (e) => e.code === 1235);
await assert.rejects(client.sendEmail({ From: "someone@unverified.example", To: "x@example.net", TextBody: "x" }),
  (e) => e.code === 400);

// Wait for delivery to the loopback sink (the server runs the delivery role with a relay).
let details;
for (let i = 0; i < 200; i++) {
  details = await client.getOutboundMessageDetails(single.MessageID);
  if (details.MessageEvents.some((e) => e.Type === "Delivered")) break;
  await new Promise((r) => setTimeout(r, 100));
}
assert.equal(details.MessageID, single.MessageID);
assert.equal(details.Subject, "Order shipped");
assert.equal(details.Tag, "shipping");
assert.deepEqual(details.Metadata, { order: "1234" });
assert.deepEqual(details.Attachments, ["note.txt"]);
assert.equal(details.To[0].Email, "jo@example.net");
assert.ok(details.MessageEvents.some((e) => e.Type === "Delivered"), "the message was delivered");

const tagged = await client.getOutboundMessages({ count: 50, offset: 0, tag: "batch" });
assert.equal(tagged.TotalCount, 2);
const all = await client.getOutboundMessages({ count: 50, offset: 0 });
assert.equal(all.TotalCount, 3);
const byRecipient = await client.getOutboundMessages({ count: 10, offset: 0, recipient: "c@example.net" });
assert.equal(byRecipient.TotalCount, 1);
assert.equal(byRecipient.Messages[0].Subject, "Three");
const byMetadata = await client.getOutboundMessages({ count: 10, offset: 0, metadata_order: "1234" });
assert.equal(byMetadata.TotalCount, 1);
const dump = await client.getOutboundMessageDump(single.MessageID);
assert.match(dump.Body, /DKIM-Signature:/);
assert.match(dump.Body, /Subject: Order shipped/);
console.log("all assertions passed");
