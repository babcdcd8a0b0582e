// Drives Mailroom's Stats API (spec §9) with Postmark's official Node client (postmark 4.x).
// Run by tests/Mailroom.Tests/Stats/NodeClientStatsTests.cs against a real `mailroom serve`, after the xunit side sent
// two messages tagged "welcome" with open tracking on the outbound stream, one of which the sink refused (550 5.1.1):
//   HOST=127.0.0.1:5080 SERVER_TOKEN=... node tests/node/stats.test.mjs
// Exits non-zero on the first failed assertion.
import assert from "node:assert/strict";
import { required, serverClient } from "./common.mjs";

const [token] = required("SERVER_TOKEN");
const client = serverClient(token);
const date = /^\d{4}-\d{2}-\d{2}$/;

// ---- Overview: totals only ----
const overview = await client.getOutboundOverview({ tag: "welcome" });
assert.equal(overview.Sent, 2);
assert.equal(overview.Bounced, 1);
assert.equal(overview.SMTPApiErrors, 0);
assert.equal(overview.BounceRate, 50);
assert.equal(overview.SpamComplaints, 0);
assert.equal(overview.SpamComplaintsRate, 0);
assert.equal(overview.Tracked, 2);
assert.equal(overview.WithOpenTracking, 2);
assert.equal(overview.WithLinkTracking, 0);
for (const key of ["Opens", "UniqueOpens", "TotalTrackedLinksSent", "UniqueLinksClicked", "TotalClicks", "WithClientRecorded", "WithPlatformRecorded", "WithReadTimeRecorded"])
  assert.equal(overview[key], 0, key);
assert.equal(overview.Days, undefined);

// ---- Sends, bounces, spam, tracked: totals and Days ----
const sends = await client.getSentCounts({ messageStream: "outbound" });
assert.equal(sends.Sent, 2);
assert.equal(sends.Days.length, 1);
assert.match(sends.Days[0].Date, date);
assert.equal(sends.Days[0].Sent, 2);
const day = sends.Days[0].Date;
const sameDay = await client.getSentCounts({ fromDate: day, toDate: day, tag: "welcome" });
assert.equal(sameDay.Sent, 2);
const none = await client.getSentCounts({ tag: "no-such-tag" });
assert.deepEqual(none.Days, []);
assert.equal(none.Sent, undefined);

const bounces = await client.getBounceCounts({});
assert.equal(bounces.HardBounce, 1);
assert.deepEqual(bounces.Days, [{ Date: day, HardBounce: 1 }]);
const spam = await client.getSpamComplaintsCounts({});
assert.deepEqual(spam.Days, []);
const tracked = await client.getTrackedEmailCounts({});
assert.equal(tracked.Tracked, 2);
assert.deepEqual(tracked.Days, [{ Date: day, Tracked: 2 }]);

// ---- Opens and clicks: nothing recorded yet, every endpoint answers its shape ----
for (const call of [
  () => client.getEmailOpenCounts({}),
  () => client.getEmailOpenPlatformUsage({}),
  () => client.getEmailOpenClientUsage({}),
  () => client.getEmailOpenReadTimes({}),
  () => client.getClickCounts({}),
  () => client.getClickBrowserUsage({}),
  () => client.getClickPlatformUsage({}),
  () => client.getClickLocation({}),
]) {
  const r = await call();
  assert.deepEqual(r, { Days: [] });
}

// ---- Errors ----
await assert.rejects(client.getSentCounts({ messageStream: "nope" }), (e) => e.code === 1226);
await assert.rejects(client.getSentCounts({ fromDate: "2026-02-02", toDate: "2026-01-01" }), (e) => e.code === 1502);

console.log("all assertions passed");
