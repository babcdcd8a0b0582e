// Drives Mailroom's Servers and Message Streams APIs with Postmark's official Node client (postmark 4.x).
// Run by tests/Mailroom.Tests/Api/NodeClientServersTests.cs against a real `mailroom serve`:
//   HOST=127.0.0.1:5080 ACCOUNT_TOKEN=... node tests/node/servers.test.mjs
// Exits non-zero on the first failed assertion.
import assert from "node:assert/strict";
import * as postmark from "postmark";
import { required, accountClient, serverClient, rejectsWith } from "./common.mjs";

const [token] = required("ACCOUNT_TOKEN");
const account = accountClient(token);
const suffix = Math.random().toString(36).slice(2, 8);

// Servers (account token)
const created = await account.createServer({ Name: `node-${suffix}`, Color: "Blue", TrackOpens: true, TrackLinks: "HtmlOnly" });
assert.equal(created.Name, `node-${suffix}`);
assert.equal(created.Color, "blue");
assert.equal(created.TrackOpens, true);
assert.equal(created.TrackLinks, "HtmlOnly");
assert.equal(created.ApiTokens.length, 1);
const listed = await account.getServers({ count: 50, offset: 0, name: suffix });
assert.equal(listed.TotalCount, 1);
assert.equal(listed.Servers[0].ID, created.ID);
const fetched = await account.getServer(created.ID);
assert.equal(fetched.Name, created.Name);
const edited = await account.editServer(created.ID, { Name: `node-${suffix}-renamed`, Color: "green", BounceHookUrl: "https://hooks.example.com/b" });
assert.equal(edited.Name, `node-${suffix}-renamed`);
assert.equal(edited.Color, "green");
assert.equal(edited.TrackOpens, true, "fields not given stay as they were");
assert.equal(edited.BounceHookUrl, "https://hooks.example.com/b");
await rejectsWith(account.createServer({ Name: `node-${suffix}-renamed` }), 603);
await rejectsWith(account.createServer({ Name: "x", Color: "pink" }), 607);

// The server's own token
const server = serverClient(created.ApiTokens[0]);
const own = await server.getServer();
assert.equal(own.ID, created.ID);
const ownEdited = await server.editServer({ InboundSpamThreshold: 10 });
assert.equal(ownEdited.InboundSpamThreshold, 10);

// Message streams (server token)
const streams = await server.getMessageStreams();
assert.deepEqual(streams.MessageStreams.map((s) => s.ID).sort(), ["broadcast", "inbound", "outbound"]);
const stream = await server.createMessageStream({ ID: `news-${suffix}`, Name: "News", MessageStreamType: "Broadcasts", Description: "Monthly" });
assert.equal(stream.ID, `news-${suffix}`);
assert.equal(stream.MessageStreamType, "Broadcasts");
assert.equal(stream.SubscriptionManagementConfiguration.UnsubscribeHandlingType, "Postmark");
const got = await server.getMessageStream(`news-${suffix}`);
assert.equal(got.Name, "News");
const renamed = await server.editMessageStream(`news-${suffix}`, { Name: "Newsletter" });
assert.equal(renamed.Name, "Newsletter");
assert.equal(renamed.Description, "Monthly");
const broadcasts = await server.getMessageStreams({ messageStreamType: "Broadcasts" });
assert.equal(broadcasts.TotalCount, 2);
const archived = await server.archiveMessageStream(`news-${suffix}`);
assert.equal(String(archived.ID), `news-${suffix}`);
assert.ok(archived.ExpectedPurgeDate);
const hidden = await server.getMessageStreams();
assert.ok(!hidden.MessageStreams.some((s) => s.ID === `news-${suffix}`), "archived streams are hidden");
const withArchived = await server.getMessageStreams({ includeArchivedStreams: true });
assert.ok(withArchived.MessageStreams.some((s) => s.ID === `news-${suffix}`));
const back = await server.unarchiveMessageStream(`news-${suffix}`);
assert.equal(back.ArchivedAt, null);
await rejectsWith(server.archiveMessageStream("outbound"), 1229);
await rejectsWith(server.getMessageStream("missing"), 1226);
await rejectsWith(server.createMessageStream({ ID: "pm-x", Name: "x", MessageStreamType: "Transactional" }), 1233);

// Delete
const deleted = await account.deleteServer(created.ID);
assert.equal(deleted.ErrorCode, 0);
await assert.rejects(server.getServer(), (e) => e.statusCode === 401 || e.code === 10);
await rejectsWith(account.getServer(created.ID), 601);
console.log("all assertions passed");
