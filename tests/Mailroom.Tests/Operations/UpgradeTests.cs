using MimeKit;

namespace Mailroom.Tests.Operations;

/// <summary>
/// An upgrade: this build opens a store made by an older commit's binary (<c>tests/fixtures/upgrade/store-efdf9e5</c>,
/// made by <c>make-store.sh</c> with the mailroom of commit efdf9e5, 2026-11-29, two migrations old then), migrates it
/// forward at start and carries on: the old tokens authenticate, the server and domain read the same, and the two
/// messages the old version signed and queued are delivered with its DKIM signature intact.
/// </summary>
public sealed class UpgradeTests
{
    private static string Fixture => Path.Combine(TestPaths.RepoRoot, "tests", "fixtures", "upgrade", "store-efdf9e5");

    private static void CopyTree(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        foreach (var dir in Directory.GetDirectories(from)) CopyTree(dir, Path.Combine(to, Path.GetFileName(dir)));
    }

    [Fact]
    public async Task StoreOfAnOlderVersionIsMigratedAndItsQueuedMailDeliveredWithTheOldSignature()
    {
        var created = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(Fixture, "created.json"))).RootElement;
        var data = TestPaths.NewTempDirectory("mailroom-upgrade");
        CopyTree(Path.Combine(Fixture, "store"), data);
        await using var sink = new SmtpSink();

        await using var mailroom = await MailroomProcess.StartOnDataFolderAsync(data,
            ["--platform-domain", "mailroom.test", "--relay", $"127.0.0.1:{sink.Port}"]);

        using var account = new HttpClient { BaseAddress = new Uri(mailroom.BaseUrl) };
        account.DefaultRequestHeaders.Add("Accept", "application/json");
        account.DefaultRequestHeaders.Add("X-Postmark-Account-Token", created.GetProperty("accountToken").GetString());
        using var server = new HttpClient { BaseAddress = new Uri(mailroom.BaseUrl) };
        server.DefaultRequestHeaders.Add("Accept", "application/json");
        server.DefaultRequestHeaders.Add("X-Postmark-Server-Token", created.GetProperty("serverToken").GetString());

        // The old tokens (stored as hashes and under the old Data Protection keys) still work; the objects read the same.
        var oldServer = created.GetProperty("server");
        var readServer = await account.GetAsync($"/servers/{oldServer.GetProperty("ID").GetInt32()}").OkJson();
        foreach (var field in new[] { "Name", "Color", "DeliveryType", "InboundAddress", "InboundHash" })
            Assert.Equal(oldServer.GetProperty(field).GetString(), readServer.GetProperty(field).GetString());
        Assert.Equal(oldServer.GetProperty("ApiTokens")[0].GetString(), readServer.GetProperty("ApiTokens")[0].GetString());
        var oldDomain = created.GetProperty("domain");
        var readDomain = await account.GetAsync($"/domains/{oldDomain.GetProperty("ID").GetInt32()}").OkJson();
        foreach (var field in new[] { "Name", "DKIMPendingHost", "DKIMPendingTextValue", "ReturnPathDomain" })
            Assert.Equal(oldDomain.GetProperty(field).GetString(), readDomain.GetProperty(field).GetString());

        // The two queued messages go out (their retry time has long passed), signed by the old platform key.
        var until = DateTime.UtcNow.AddSeconds(60);
        while (sink.Messages.Count < 2 && DateTime.UtcNow < until) await Task.Delay(200);
        Assert.Equal(2, sink.Messages.Count);
        var platformDns = created.GetProperty("platformDns").GetString()!;
        var dkimLine = platformDns.Split('\n').Single(l => l.Contains("._domainkey.mailroom.test.", StringComparison.Ordinal) && !l.StartsWith(';'));
        var host = dkimLine.Split('\t')[0].TrimEnd('.');
        var txt = string.Concat(System.Text.RegularExpressions.Regex.Matches(dkimLine, "\"([^\"]*)\"").Select(m => m.Groups[1].Value));
        foreach (var got in sink.Messages)
        {
            var message = MimeMessage.Load(new MemoryStream(got.Data));
            Assert.StartsWith("Before the upgrade", message.Subject);
            Assert.Equal("pass", await PythonDkim.VerifyAsync(got.Data, txt, host));
        }

        // The Messages API lists them, now sent, with the events of both versions.
        var list = await server.GetAsync("/messages/outbound?count=10&offset=0").OkJson();
        Assert.Equal(2, list.GetProperty("TotalCount").GetInt32());
        var id = list.GetProperty("Messages")[0].GetProperty("MessageID").GetString();
        var details = await server.GetAsync($"/messages/outbound/{id}/details").OkJson();
        Assert.Contains(details.GetProperty("MessageEvents").EnumerateArray(), e => e.GetProperty("Type").GetString() == "Delivered");

        // And the upgraded store takes new mail.
        await server.PostAsJsonAsync("/email", new { From = "shop@mailroom.test", To = "new@example.net", Subject = "After the upgrade", TextBody = "Hi" }).OkJson();
    }
}
