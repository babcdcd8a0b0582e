// Reads opens and clicks through Postmark's official Node client (postmark 4.x): the lists with filters and paging,
// and one message's opens and clicks. Run by tests/Mailroom.Tests/Tracking/NodeClientTrackingTests.cs against a real
// `mailroom serve` after it opened the message once with iOS Mail and clicked its HTML link once with Chrome:
//   HOST=127.0.0.1:5080 SERVER_TOKEN=... MESSAGE_ID=... node tests/node/tracking.test.mjs
// Exits non-zero on the first failed assertion.
import assert from "node:assert/strict";
import * as postmark from "postmark";
import { required, serverClient } from "./common.mjs";

const [token, messageId] = required("SERVER_TOKEN", "MESSAGE_ID");
const client = serverClient(token);

const opens = await client.getMessageOpens();
assert.equal(opens.TotalCount, 1);
const open = opens.Opens[0];
assert.equal(open.RecordType, "Open");
assert.equal(open.FirstOpen, true);
assert.equal(open.MessageID, messageId);
assert.equal(open.Recipient, "jo@example.net");
assert.equal(open.Tag, "spring");
assert.equal(open.MessageStream, "outbound");
assert.equal(open.Platform, "Mobile");
assert.deepEqual(open.Client, { Name: "Apple Mail", Company: "Apple", Family: "Apple Mail" });
assert.equal(open.OS.Family, "iOS");
assert.equal(typeof open.ReadSeconds, "number");
assert.ok(!Number.isNaN(Date.parse(open.ReceivedAt)));

const filtered = await client.getMessageOpens({ count: 10, offset: 0, client_family: "Apple Mail", platform: "Mobile", tag: "spring" });
assert.equal(filtered.TotalCount, 1);
const none = await client.getMessageOpens(new postmark.Models.OutboundMessageOpensFilteringParameters(10, 0, undefined, "autumn"));
assert.equal(none.TotalCount, 0);
assert.deepEqual(none.Opens, []);

const single = await client.getMessageOpensForSingleMessage(messageId, { count: 10, offset: 0 });
assert.equal(single.TotalCount, 1);
assert.equal(single.Opens[0].MessageID, messageId);

const clicks = await client.getMessageClicks({ count: 10, offset: 0, messageStream: "outbound" });
assert.equal(clicks.TotalCount, 1);
const click = clicks.Clicks[0];
assert.equal(click.RecordType, "Click");
assert.equal(click.ClickLocation, "HTML");
assert.equal(click.OriginalLink, "https://shop.example/sale?utm=mail");
assert.equal(click.Client.Family, "Chrome");
assert.equal(click.Platform, "Desktop");
assert.equal(click.MessageID, messageId);

const singleClicks = await client.getMessageClicksForSingleMessage(messageId, { count: 10, offset: 0 });
assert.equal(singleClicks.TotalCount, 1);

await assert.rejects(client.getMessageOpens({ count: 501, offset: 0 }), (e) => {
  assert.equal(e.code, 700);
  return true;
});

console.log("all assertions passed");
