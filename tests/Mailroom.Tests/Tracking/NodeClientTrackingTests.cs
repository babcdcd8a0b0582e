using System.Text.RegularExpressions;
using Mailroom.Contracts;
using MimeKit;

namespace Mailroom.Tests.Tracking;

/// <summary>Postmark's official Node client (tests/node) reads opens and clicks from a real <c>mailroom serve</c> that
/// delivered a tracked message to a loopback sink, after its image was fetched and a link followed over HTTP:
/// tests/node/tracking.test.mjs must exit 0.</summary>
public sealed partial class NodeClientTrackingTests
{
    [GeneratedRegex("/t/(o|c)/([A-Za-z0-9_-]{48})")]
    private static partial Regex TrackingPath();

    [Fact]
    public async Task TheNodeClientReadsOpensAndClicks()
    {
        NodeClient.RequireInstalled();
        await using var sink = new SmtpSink(tls: false);
        await using var server = await MailroomProcess.StartAsync(["--platform-domain", "mailroom.test", "--relay", $"127.0.0.1:{sink.Port}", "--roles", "all"]);
        var account = await server.CreateAccountAsync("Node tracking");
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(server.BaseUrl) };
        http.DefaultRequestHeaders.Add("X-Postmark-Account-Token", account.AccountToken);
        var created = await (await http.PostAsJsonAsync("/servers", new { Name = "Tracked" })).Content.ReadFromJsonAsync<ServerResponse>();
        var serverToken = created!.ApiTokens[0];
        using var send = new HttpRequestMessage(HttpMethod.Post, "/email")
        {
            Content = JsonContent.Create(new
            {
                From = "shop@mailroom.test", To = "jo@example.net", Subject = "Spring sale", Tag = "spring", TrackOpens = true, TrackLinks = "HtmlOnly",
                HtmlBody = "<p><a href=\"https://shop.example/sale?utm=mail\">See the sale</a></p>",
            }),
        };
        send.Headers.Add("X-Postmark-Server-Token", serverToken);
        var sent = await (await http.SendAsync(send)).Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
        var messageId = sent.GetProperty("MessageID").GetString()!;
        await Eventually.True(() => Task.FromResult(!sink.Messages.IsEmpty), because: "the tracked message reaches the sink");
        var html = MimeMessage.Load(new MemoryStream(sink.Messages.Single().Data)).HtmlBody ?? "";
        var paths = TrackingPath().Matches(html).Select(m => m.Value).ToList();
        Assert.Equal(2, paths.Count);

        using var open = new HttpRequestMessage(HttpMethod.Get, paths.Single(p => p.StartsWith("/t/o/")));
        open.Headers.TryAddWithoutValidation("User-Agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148");
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(open)).StatusCode);
        using var click = new HttpRequestMessage(HttpMethod.Get, paths.Single(p => p.StartsWith("/t/c/")));
        click.Headers.TryAddWithoutValidation("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36");
        var redirect = await http.SendAsync(click);
        Assert.Equal(HttpStatusCode.Redirect, redirect.StatusCode);
        Assert.Equal("https://shop.example/sale?utm=mail", redirect.Headers.Location!.OriginalString);

        await NodeClient.RunAsync(server, "tracking.test.mjs", new Dictionary<string, string> { ["SERVER_TOKEN"] = serverToken, ["MESSAGE_ID"] = messageId });
    }
}
