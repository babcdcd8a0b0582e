using Mailroom.Core.Identities;

namespace Mailroom.Tests.Identities;

/// <summary>The platform domain's records: printed by <c>mailroom dns</c>, checked live by <c>GET /health/dns</c>.</summary>
public sealed class PlatformDnsTests
{
    [Fact]
    public async Task HealthDnsSaysWhichRecordsAreLive()
    {
        using var dns = TestDnsServer.Start();
        await using var host = await MailroomHost.StartAsync(tweak: s => s with { Dns = dns.Address, PlatformDomain = "mailroom.test" });
        var records = await host.ScopedAsync(sp => sp.GetRequiredService<PlatformDnsRecords>().ListAsync());

        var before = await host.Client().GetAsync("/health/dns").OkJson();
        Assert.Equal("mailroom.test", before.GetProperty("PlatformDomain").GetString());
        Assert.False(before.GetProperty("AllLive").GetBoolean());
        Assert.All(before.GetProperty("Records").EnumerateArray(), r => Assert.False(r.GetProperty("Live").GetBoolean()));

        foreach (var r in records)
        {
            if (r.Type == "TXT")
                dns.AddTxt(r.Name, r.Value);
            else
                dns.AddA(r.Name, IPAddress.Parse("192.0.2.10")); // documentation address (RFC 5737): only published, never contacted
        }
        var after = await host.Client().GetAsync("/health/dns").OkJson();
        Assert.True(after.GetProperty("AllLive").GetBoolean(), after.ToString());
        var dkim = after.GetProperty("Records").EnumerateArray().Single(r => r.GetProperty("Name").GetString()!.Contains("._domainkey."));
        Assert.StartsWith("v=DKIM1; k=rsa; p=MIIB", dkim.GetProperty("Value").GetString());
    }

    [Fact]
    public async Task HealthDnsWithoutAPlatformDomainListsNothing()
    {
        await using var host = await MailroomHost.StartAsync(tweak: s => s with { PlatformDomain = null });
        var status = await host.Client().GetAsync("/health/dns").OkJson();
        Assert.Equal("", status.GetProperty("PlatformDomain").GetString());
        Assert.Empty(status.GetProperty("Records").EnumerateArray());
    }

    [Fact]
    public async Task ThePlatformKeyIsMadeAtFirstStartAndKept()
    {
        await using var host = await MailroomHost.StartAsync(tweak: s => s with { PlatformDomain = "mailroom.test" });
        var keys = await host.ScopedAsync(sp => Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.ToListAsync(
            sp.GetRequiredService<Mailroom.Core.Storage.MailroomDb>().DkimKeys));
        var key = Assert.Single(keys);
        Assert.Null(key.DomainId);
        Assert.Equal(DkimKeyState.Active, key.State);
        Assert.DoesNotContain("PRIVATE KEY", key.ProtectedPrivateKey);
        var again = await host.ScopedAsync(sp => sp.GetRequiredService<DkimKeyStore>().PlatformKeyAsync());
        Assert.Equal(key.Id, again.Id);
    }

    [Fact]
    public async Task TheDnsCommandPrintsEveryRecordInZoneFileSyntax()
    {
        using var dns = TestDnsServer.Start();
        await using var server = await MailroomProcess.StartAsync(["--platform-domain", "Mail.Example.", "--dns", dns.Address]);
        var printed = await server.CommandAsync("dns", "--platform-domain", "mail.example");
        Assert.True(printed.ExitCode == 0, printed.ToString());
        var output = printed.StandardOutput;
        Assert.Matches(@"\d{14}pm\._domainkey\.mail\.example\.\t3600\tIN\tTXT\t""v=DKIM1; k=rsa; p=MIIB", output);
        Assert.Contains("mail.example.\t3600\tIN\tTXT\t\"v=spf1 a mx include:spf.mail.example ~all\"", output);
        Assert.Contains("spf.mail.example.\t3600\tIN\tTXT\t\"v=spf1 a:pm-bounces.mail.example ~all\"", output);
        Assert.Contains("; pm-bounces.mail.example.\t3600\tIN\tA\t<public IPv4 address of this Mailroom>", output);
        Assert.Contains("pm-bounces.mail.example.\t3600\tIN\tTXT\t\"v=spf1 include:spf.mail.example ~all\"", output);
        Assert.Contains("_dmarc.mail.example.\t3600\tIN\tTXT\t\"v=DMARC1; p=none; rua=mailto:dmarc@mail.example\"", output);
        Assert.Contains("*._report._dmarc.mail.example.\t3600\tIN\tTXT\t\"v=DMARC1\"", output);
        Assert.Contains("; dmarc.mail.example.\t3600\tIN\tA\t<public IPv4 address of this Mailroom>", output);

        // The key printed is the one the running server made at its first start and publishes in /health/dns.
        using var http = new HttpClient();
        var status = JsonDocument.Parse(await http.GetStringAsync(server.BaseUrl + "/health/dns")).RootElement;
        var dkim = status.GetProperty("Records").EnumerateArray().Single(r => r.GetProperty("Name").GetString()!.Contains("._domainkey."));
        var value = dkim.GetProperty("Value").GetString()!;
        Assert.Contains(string.Join("\" \"", value.Chunk(255).Select(c => new string(c))), output);

        // --check looks the records up: none is published on this resolver, so it says so and exits 1.
        var check = await server.CommandAsync("dns", "--platform-domain", "mail.example", "--dns", dns.Address, "--check");
        Assert.Equal(1, check.ExitCode);
        Assert.Contains("; live: NO", check.StandardOutput);

        var none = await server.CommandAsync("dns");
        Assert.Equal(2, none.ExitCode);
        Assert.Contains("--platform-domain", none.StandardError);
    }
}
