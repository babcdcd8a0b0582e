using Mailroom.Contracts;
using Mailroom.Core;
using Mailroom.Web;
using Xunit;

namespace Mailroom.Tests.Web;

/// <summary>The pieces of the webhooks and template pages that stand alone: the webhook form's mapping onto the
/// Webhooks API's request, and the template preview store's scoping.</summary>
public sealed class WebPageFormsTests
{
    [Fact]
    public void TemplatePreviewIsOnlyForTheUserAndServerThatMadeIt()
    {
        using var previews = new TemplatePreviews();
        var key = previews.Add(userId: 7, serverId: 3, "<p>draft</p>");
        Assert.Equal("<p>draft</p>", previews.Find(key, 7, 3));
        Assert.Null(previews.Find(key, 8, 3)); // another user
        Assert.Null(previews.Find(key, 7, 4)); // another server
        Assert.Null(previews.Find("0123456789abcdef0123456789abcdef", 7, 3));
        Assert.Null(previews.Find(null, 7, 3));
        Assert.NotEqual(key, previews.Add(7, 3, "<p>draft</p>")); // a new key each time
    }

    [Fact]
    public void WebhookFormKeepsTheStoredPasswordWhenLeftBlankAndRemovesAuthWithoutAUserName()
    {
        var current = new WebhookResponse { ID = 1, Url = "https://hooks.example/x", HttpAuth = new WebhookHttpAuth("ops", "s3cret") };
        var form = WebhookForm.From(current);
        Assert.Null(form.AuthPassword); // never sent back to the browser
        var kept = form.ToRequest(current);
        Assert.Equal(new WebhookHttpAuth("ops", "s3cret"), kept.HttpAuth);
        Assert.Null(kept.MessageStream); // a webhook's stream cannot change: not sent on edit

        form.AuthPassword = "new";
        Assert.Equal(new WebhookHttpAuth("ops", "new"), form.ToRequest(current).HttpAuth);

        form.AuthUsername = " ";
        Assert.Equal(new WebhookHttpAuth("", ""), form.ToRequest(current).HttpAuth); // blank user: authentication removed
    }

    [Fact]
    public void WebhookFormSendsEveryTriggerAndItsOptionsAndParsesHeaderLines()
    {
        var form = new WebhookForm
        {
            Url = "https://hooks.example/x", Stream = "broadcast", Open = true, OpenFirstOnly = true, Bounce = true, BounceContent = true,
            Headers = "X-Team: ops\r\n\r\nX-Env:  prod : eu \n",
        };
        var r = form.ToRequest(null);
        Assert.Equal("broadcast", r.MessageStream);
        Assert.Equal(new TriggerRequest(true, PostFirstOpenOnly: true), r.Triggers!.Open);
        Assert.Equal(new TriggerRequest(true, IncludeContent: true), r.Triggers.Bounce);
        Assert.Equal(new TriggerRequest(false, IncludeContent: false), r.Triggers.SpamComplaint);
        Assert.Equal(new TriggerRequest(false), r.Triggers.Delivery);
        Assert.Equal(new TriggerRequest(false), r.Triggers.Click);
        Assert.Equal(new TriggerRequest(false), r.Triggers.SubscriptionChange);
        Assert.Equal([new WebhookHeader("X-Team", "ops"), new WebhookHeader("X-Env", "prod : eu")], r.HttpHeaders!);
    }

    [Fact]
    public void WebhookFormRefusesAHeaderLineWithoutAName()
    {
        var e = Assert.Throws<MailroomException>(() => WebhookForm.ParseHeaders("X-Team ops"));
        Assert.Contains("'Name: Value'", e.Message);
        Assert.Throws<MailroomException>(() => WebhookForm.ParseHeaders(": value"));
    }
}
