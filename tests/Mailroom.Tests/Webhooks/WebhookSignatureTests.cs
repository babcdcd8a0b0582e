using System.Text;
using Mailroom.Core.Webhooks;

namespace Mailroom.Tests.Webhooks;

/// <summary>The dispatcher's signing path (bytes, a keyed MAC kept per thread) gives the header the documented snippet verifies.</summary>
public sealed class WebhookSignatureTests
{
    [Fact]
    public void SigningFromBytesMatchesTheDocumentedSignatureWhileSecretsAlternate()
    {
        var bodies = new[] { "{}", "{\"RecordType\":\"Delivery\",\"Recipient\":\"é@example.net\"}", new string('x', 5000) };
        var secrets = new[] { "first-secret", "second-secret-longer-than-the-first-one", "third" };
        // Alternating secrets on one thread replace its cached MAC; each header must still be the one of its own secret.
        for (var round = 0; round < 3; round++)
            foreach (var body in bodies)
                foreach (var secret in secrets)
                {
                    var t = 1_764_000_000L + round;
                    var header = WebhookSignature.Sign(t, Encoding.UTF8.GetBytes(body), Encoding.UTF8.GetBytes(secret), null);
                    Assert.Equal(WebhookSignature.Sign(t, body, secret), header);
                    Assert.True(MailroomWebhookVerifier.Verify(header, body, secret, t));
                    Assert.False(MailroomWebhookVerifier.Verify(header, body + " ", secret, t));
                }
    }

    [Fact]
    public void DuringRotationBothSecretsSignAndEachVerifies()
    {
        const string body = "{\"RecordType\":\"SubscriptionChange\"}";
        const long t = 1_764_000_123L;
        var header = WebhookSignature.Sign(t, Encoding.UTF8.GetBytes(body), Encoding.UTF8.GetBytes("new"), Encoding.UTF8.GetBytes("old"));
        Assert.Equal(WebhookSignature.Sign(t, body, "new", "old"), header);
        Assert.True(MailroomWebhookVerifier.Verify(header, body, "new", t));
        Assert.True(MailroomWebhookVerifier.Verify(header, body, "old", t));
        Assert.False(MailroomWebhookVerifier.Verify(header, body, "other", t));
    }
}
