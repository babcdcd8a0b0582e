using Mailroom.Mail.Composition;
using Mailroom.Mail.Templates;
using MimeKit;

namespace Mailroom.Mail.Tests.Composition;

public sealed class UnsubscribeLinksTests
{
    [Fact]
    public void TemplatesKeepTheUnsubscribePlaceholderForPreparation()
    {
        var model = System.Text.Json.JsonDocument.Parse("""{"name":"Ann"}""").RootElement.Clone();
        var html = TemplateRenderer.Render(TemplateParser.Parse("<p>Hi {{name}}</p><a href=\"{{{ pm:unsubscribe }}}\">Unsubscribe</a>"), model, TemplateOutput.Html);
        Assert.Equal("<p>Hi Ann</p><a href=\"{{{ pm:unsubscribe }}}\">Unsubscribe</a>", html);
        Assert.Equal("Bye {{{pm:unsubscribe}}}", TemplateRenderer.Render(TemplateParser.Parse("Bye {{{pm:unsubscribe}}}"), model, TemplateOutput.Text));
        // Another name with a colon is still an invalid path.
        Assert.Null(TemplateParser.TryParse("{{{ pm:other }}}", false, out var errors));
        Assert.NotEmpty(errors);
    }

    [Fact]
    public void ApplyReplacesCustomerHeadersAndThePlaceholderInTextAndHtmlOnly()
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse("news@example.com"));
        message.To.Add(MailboxAddress.Parse("ann@example.net"));
        message.Headers.Add("List-Unsubscribe", "<https://customer.example/u>");
        var body = new BodyBuilder { TextBody = "Leave: {{{ pm:unsubscribe }}}", HtmlBody = "<a href=\"{{{pm:unsubscribe}}}\">x</a>" };
        body.Attachments.Add("notes.txt", System.Text.Encoding.UTF8.GetBytes("{{{ pm:unsubscribe }}} stays in attachments"));
        message.Body = body.ToMessageBody();

        UnsubscribeLinks.Apply(message, "https://mr.example/unsubscribe/T", "mailto:unsubscribe@pm-bounces.mr.example?subject=unsubscribe-T");

        Assert.Equal("<https://mr.example/unsubscribe/T>, <mailto:unsubscribe@pm-bounces.mr.example?subject=unsubscribe-T>",
            Assert.Single(message.Headers, h => h.Field == "List-Unsubscribe").Value.Trim());
        Assert.Equal("List-Unsubscribe=One-Click", message.Headers["List-Unsubscribe-Post"]);
        Assert.Equal("Leave: https://mr.example/unsubscribe/T", message.TextBody);
        Assert.Equal("<a href=\"https://mr.example/unsubscribe/T\">x</a>", message.HtmlBody);
        var attachment = (TextPart)message.Attachments.Single();
        Assert.Contains("{{{ pm:unsubscribe }}}", attachment.Text);
    }
}
