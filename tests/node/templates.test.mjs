// Drives Mailroom's Templates API and templated sending with Postmark's official Node client (postmark 4.x).
// Run by tests/Mailroom.Tests/Templates/NodeClientTemplatesTests.cs:
//   HOST=127.0.0.1:5080 ACCOUNT_TOKEN=... SERVER_TOKEN=... SERVER_ID=... STAGING_TOKEN=... STAGING_ID=... FROM=app@mailroom.test node tests/node/templates.test.mjs
import assert from "node:assert/strict";
import * as postmark from "postmark";
import { required, serverClient, accountClient } from "./common.mjs";

const [ACCOUNT_TOKEN, SERVER_TOKEN, SERVER_ID, STAGING_TOKEN, STAGING_ID, from] =
  required("ACCOUNT_TOKEN", "SERVER_TOKEN", "SERVER_ID", "STAGING_TOKEN", "STAGING_ID", "FROM");
const client = serverClient(SERVER_TOKEN);
const staging = serverClient(STAGING_TOKEN);
const account = accountClient(ACCOUNT_TOKEN);

// Create a layout and a template that uses it.
const layout = await client.createTemplate({
  Name: "Base", Alias: "base", TemplateType: postmark.Models.TemplateTypes.Layout,
  HtmlBody: "<html><body><h1>{{company}}</h1>{{{ @content }}}</body></html>", TextBody: "{{company}}\n{{{ @content }}}",
});
assert.equal(layout.TemplateType, "Layout");
assert.equal(layout.Alias, "base");
const created = await client.createTemplate(new postmark.Models.CreateTemplateRequest(
  "Receipt", "Receipt for {{name}}", "<p>Hi {{name}}</p><ul>{{#each items}}<li>{{title}}</li>{{/each}}</ul>",
  "Hi {{name}}{{#each items}}\n- {{title}}{{/each}}", "receipt", postmark.Models.TemplateTypes.Standard, "base"));
assert.ok(created.TemplateId > 0);
assert.equal(created.Active, true);
assert.equal(created.LayoutTemplate, "base");

// List, filter, get.
const all = await client.getTemplates();
assert.equal(all.TotalCount, 2);
const layouts = await client.getTemplates(new postmark.Models.TemplateFilteringParameters(10, 0, postmark.Models.TemplateTypes.Layout));
assert.deepEqual(layouts.Templates.map((t) => t.Alias), ["base"]);
const usingBase = await client.getTemplates({ count: 10, offset: 0, layoutTemplate: "base" });
assert.deepEqual(usingBase.Templates.map((t) => t.Alias), ["receipt"]);
const got = await client.getTemplate("receipt");
assert.equal(got.TemplateId, created.TemplateId);
assert.equal(got.Subject, "Receipt for {{name}}");
assert.equal(got.AssociatedServerId, Number(SERVER_ID));
assert.equal((await client.getTemplate(created.TemplateId)).Name, "Receipt");

// Edit.
const edited = await client.editTemplate("receipt", { Name: "Receipt v2" });
assert.equal(edited.Name, "Receipt v2");
assert.equal((await client.getTemplate("receipt")).HtmlBody, "<p>Hi {{name}}</p><ul>{{#each items}}<li>{{title}}</li>{{/each}}</ul>");

// Validate.
const validation = await client.validateTemplate({
  Subject: "Hi {{name}}", HtmlBody: "<p>{{ name }}</p>{{#each items}}{{title}}{{/each}}", TextBody: "{{#each}}",
  TestRenderModel: { name: "<Ann>", items: [{ title: "T" }] },
});
assert.equal(validation.AllContentIsValid, false);
assert.equal(validation.Subject.RenderedContent, "Hi <Ann>");
assert.equal(validation.HtmlBody.RenderedContent, "<p>&lt;Ann&gt;</p>T");
assert.equal(validation.TextBody.ContentIsValid, false);
assert.equal(validation.TextBody.ValidationErrors[0].Line, 1);
assert.deepEqual(validation.SuggestedTemplateModel, { name: "name_Value", items: [{ title: "title_Value" }] });

// Errors surface with Postmark's codes.
await assert.rejects(client.getTemplate("missing"), (e) => e.code === 1101);
await assert.rejects(client.deleteTemplate("base"), (e) => e.code === 1130);

// Send with a template, single and batch.
const model = { company: "ACME", name: "Jo", items: [{ title: "Tea" }, { title: "Cake" }] };
const sent = await client.sendEmailWithTemplate({ From: from, To: "jo@example.net", TemplateAlias: "receipt", TemplateModel: model, Tag: "receipts" });
assert.equal(sent.ErrorCode, 0);
assert.equal(sent.Message, "OK");
assert.equal(sent.To, "jo@example.net");
await assert.rejects(client.sendEmailWithTemplate({ From: from, To: "jo@example.net", TemplateAlias: "nope", TemplateModel: model }),
  (e) => e.code === 1101);
const batch = await client.sendEmailBatchWithTemplates([
  new postmark.Models.TemplatedMessage(from, "receipt", model, "a@example.net"),
  { From: from, To: "b@example.net", TemplateId: created.TemplateId, TemplateModel: { ...model, name: "Bea" } },
  { From: from, To: "c@example.net", TemplateAlias: "nope", TemplateModel: model },
]);
assert.equal(batch.length, 3);
assert.equal(batch[0].ErrorCode, 0);
assert.equal(batch[1].ErrorCode, 0);
assert.equal(batch[2].ErrorCode, 1101);

// The rendered message, as the Messages API shows it.
let details;
for (let i = 0; i < 200; i++) {
  details = await client.getOutboundMessageDetails(sent.MessageID);
  if (details.MessageEvents.some((e) => e.Type === "Delivered")) break;
  await new Promise((r) => setTimeout(r, 100));
}
assert.equal(details.Subject, "Receipt for Jo");
assert.equal(details.HtmlBody, "<html><body><h1>ACME</h1><p>Hi Jo</p><ul><li>Tea</li><li>Cake</li></ul></body></html>");
assert.ok(details.MessageEvents.some((e) => e.Type === "Delivered"), "the templated message was delivered");

// Push to the staging server: a dry run, then for real.
const dry = await account.pushTemplates({ SourceServerID: Number(SERVER_ID), DestinationServerID: Number(STAGING_ID), PerformChanges: false });
assert.equal(dry.TotalCount, 2);
assert.deepEqual(dry.Templates.map((t) => [t.Action, t.Alias]), [["Create", "base"], ["Create", "receipt"]]);
assert.equal((await staging.getTemplates()).TotalCount, 0);
const pushed = await account.pushTemplates({ SourceServerID: Number(SERVER_ID), DestinationServerID: Number(STAGING_ID), PerformChanges: true });
assert.equal(pushed.TotalCount, 2);
assert.equal((await staging.getTemplate("receipt")).Name, "Receipt v2");

// Delete: the template, then its layout once unused.
assert.equal((await client.deleteTemplate("receipt")).ErrorCode, 0);
assert.equal((await client.deleteTemplate(layout.TemplateId)).ErrorCode, 0);
assert.equal((await client.getTemplates()).TotalCount, 0);

console.log("all assertions passed");
