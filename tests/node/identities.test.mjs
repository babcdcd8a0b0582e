// Drives Mailroom's Domains and Sender Signatures APIs with Postmark's official Node client (postmark 4.x).
// Run by tests/Mailroom.Tests/Api/NodeClientIdentitiesTests.cs against a real `mailroom serve`:
//   HOST=127.0.0.1:5080 ACCOUNT_TOKEN=... node tests/node/identities.test.mjs
// Exits non-zero on the first failed assertion. The server's DNS resolver answers nothing, so nothing verifies.
import assert from "node:assert/strict";
import { required, accountClient, rejectsWith } from "./common.mjs";

const [token] = required("ACCOUNT_TOKEN");
const client = accountClient(token);
const suffix = Math.random().toString(36).slice(2, 8);
const domainName = `node-${suffix}.example`;

function assertDomainDetails(d) {
  for (const field of ["SPFHost", "SPFTextValue", "DKIMHost", "DKIMTextValue", "DKIMPendingHost", "DKIMPendingTextValue",
    "DKIMRevokedHost", "DKIMRevokedTextValue", "DKIMUpdateStatus", "ReturnPathDomain", "ReturnPathDomainCNAMEValue"]) {
    assert.equal(typeof d[field], "string", `${field} is a string`);
  }
  for (const field of ["SPFVerified", "DKIMVerified", "WeakDKIM", "SafeToRemoveRevokedKeyFromDNS", "ReturnPathDomainVerified"]) {
    assert.equal(typeof d[field], "boolean", `${field} is a boolean`);
  }
  assert.equal(typeof d.ID, "number");
}

// ---- Domains ----
const created = await client.createDomain({ Name: domainName, ReturnPathDomain: `bounces.${domainName}` });
assertDomainDetails(created);
assert.equal(created.Name, domainName);
assert.equal(created.ReturnPathDomain, `bounces.${domainName}`);
assert.match(created.DKIMPendingHost, new RegExp(`^\\d{14}pm\\._domainkey\\.${domainName.replace(".", "\\.")}$`));
assert.match(created.DKIMPendingTextValue, /^k=rsa; p=MIIB/);
assert.equal(created.DKIMUpdateStatus, "Pending");
assert.equal(created.WeakDKIM, false);

await rejectsWith(client.createDomain({ Name: domainName }), 512);
await rejectsWith(client.createDomain({ Name: "gmail.com" }), 503);
await rejectsWith(client.createDomain({ Name: "x.example", ReturnPathDomain: "bounces.elsewhere.example" }), 522);

const list = await client.getDomains({ count: 50, offset: 0 });
assert.ok(list.TotalCount >= 1);
const item = list.Domains.find((d) => d.ID === created.ID);
assert.ok(item, "the new domain is listed");
assert.deepEqual(Object.keys(item).sort(), ["DKIMVerified", "ID", "Name", "ReturnPathDomainVerified", "SPFVerified", "WeakDKIM"]);

const got = await client.getDomain(created.ID);
assert.deepEqual(got, created);

const edited = await client.editDomain(created.ID, { ReturnPathDomain: `pm-bounces.${domainName}` });
assert.equal(edited.ReturnPathDomain, `pm-bounces.${domainName}`);
assert.equal(edited.ReturnPathDomainVerified, false);

const dkim = await client.verifyDomainDKIM(created.ID);
assertDomainDetails(dkim);
assert.equal(dkim.DKIMVerified, false);
assert.equal(dkim.DKIMPendingHost, created.DKIMPendingHost);

const returnPath = await client.verifyDomainReturnPath(created.ID);
assert.equal(returnPath.ReturnPathDomainVerified, false);
assert.ok(returnPath.ReturnPathDomainCNAMEValue.length > 0);

// The first key is still waiting for its DNS record: a rotation now is refused.
await rejectsWith(client.rotateDomainDKIM(created.ID), 505);

const removed = await client.deleteDomain(created.ID);
assert.equal(removed.ErrorCode, 0);
await rejectsWith(client.getDomain(created.ID), 510);

// ---- Sender signatures ----
const email = `jane@${domainName}`;
const signature = await client.createSenderSignature({
  Name: "Jane Doe",
  FromEmail: email,
  ReplyToEmail: `support@${domainName}`,
  ConfirmationPersonalNote: "Hello from the Node client",
});
assertDomainDetails(signature);
assert.equal(signature.EmailAddress, email);
assert.equal(signature.Domain, domainName);
assert.equal(signature.Name, "Jane Doe");
assert.equal(signature.ReplyToEmailAddress, `support@${domainName}`);
assert.equal(signature.Confirmed, false);
assert.equal(signature.ConfirmationPersonalNote, "Hello from the Node client");

await rejectsWith(client.createSenderSignature({ Name: "Jane", FromEmail: email }), 504);
await rejectsWith(client.createSenderSignature({ Name: "Jane", FromEmail: "jane@gmail.com" }), 503);
await rejectsWith(client.createSenderSignature({ Name: "Jane", FromEmail: "not-an-address" }), 522);

const signatures = await client.getSenderSignatures({ count: 50, offset: 0 });
const listed = signatures.SenderSignatures.find((s) => s.ID === signature.ID);
assert.ok(listed, "the new signature is listed");
assert.equal(listed.Confirmed, false);
assert.equal(listed.EmailAddress, email);

assert.deepEqual(await client.getSenderSignature(signature.ID), signature);

const renamed = await client.editSenderSignature(signature.ID, { Name: "Jane D.", ReplyToEmail: `help@${domainName}` });
assert.equal(renamed.Name, "Jane D.");
assert.equal(renamed.ReplyToEmailAddress, `help@${domainName}`);
assert.equal(renamed.ConfirmationPersonalNote, "Hello from the Node client");

const resent = await client.resendSenderSignatureConfirmation(signature.ID);
assert.equal(resent.ErrorCode, 0);
assert.match(resent.Message, new RegExp(email.replace(".", "\\.")));

const gone = await client.deleteSenderSignature(signature.ID);
assert.equal(gone.ErrorCode, 0);
await rejectsWith(client.getSenderSignature(signature.ID), 501);

console.log("identities.test.mjs: all assertions passed");
