using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;

namespace Mailroom.Bench;

/// <summary>
/// The web app's Activity page of a server holding a million messages (SQLite): seeds the rows straight into the
/// store of a running <c>mailroom serve</c> (one transaction, the columns of outbound_messages), signs in a web user
/// through its set-password link like a browser (antiforgery token, cookie), then requests pages one at a time and
/// prints latency percentiles per case. Time is measured at the client over loopback: an upper bound of the server's.
/// </summary>
public static partial class WebActivityLoad
{
    public const string Help = """
        The web app's Activity page over a server with many messages (SQLite): p50/p99 per page kind.
          --messages N   messages to seed (default 1000000)
          --requests N   measured requests per unfiltered case (default 200)
          --filter-requests N   measured requests per filtered case (default 20: each scans the server's rows)
          --warmup N     unmeasured requests per case first (default 20)
          --mailroom-dll PATH, --repo DIR, --keep   as for `api`
        """;

    public static async Task<int> RunAsync(BenchArgs args, CancellationToken ct)
    {
        var messages = args.Int("messages", 1_000_000, 1);
        var requests = args.Int("requests", 200, 1);
        var warmup = args.Int("warmup", 20, 0);
        var filterRequests = args.Int("filter-requests", 20, 1);
        var dll = args.String("mailroom-dll");
        var repo = args.String("repo");
        var keep = args.Flag("keep");
        args.RejectUnknown();

        await using var mailroom = await MailroomProcess.StartAsync(repo, dll, null, keep, ct);
        var accountToken = (await mailroom.CreateAccountAsync("Bench", "bench@bench.test", ct)).AccountToken;
        using var api = new HttpClient { BaseAddress = mailroom.BaseAddress };
        api.DefaultRequestHeaders.Add("X-Postmark-Account-Token", accountToken);
        var created = await api.PostAsJsonAsync("/servers", new { Name = "Busy" }, ct);
        created.EnsureSuccessStatusCode();
        var serverId = (await created.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("ID").GetInt32();

        var seed = Stopwatch.StartNew();
        await SeedAsync(Path.Combine(mailroom.DataDirectory, "mailroom.db"), serverId, messages, ct);
        Console.WriteLine($"seeded {messages:N0} messages in {seed.Elapsed.TotalSeconds:0.0} s");

        var output = await mailroom.CommandOutputAsync(["users", "create", "--account", "1", "--email", "bench@bench.test", "--role", "owner", "--json"], ct);
        var link = JsonDocument.Parse(output.Trim().Split('\n').Last(l => l.StartsWith('{'))).RootElement.GetProperty("SetPasswordLink").GetString()!;
        var cookies = new CookieContainer();
        using var web = new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false }) { BaseAddress = mailroom.BaseAddress };
        var path = new Uri(link).PathAndQuery;
        var form = await web.GetStringAsync(path, ct);
        var af = AntiforgeryField().Match(form).Groups[1].Value;
        var token = new Uri(link).Query.Split("token=")[1];
        var signedIn = await web.PostAsync(path, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["token"] = token, ["password"] = "a bench password long enough", ["__af"] = WebUtility.HtmlDecode(af),
        }), ct);
        if (signedIn.StatusCode != HttpStatusCode.Redirect)
            throw new BenchException($"sign-in failed: {(int)signedIn.StatusCode}");

        var cases = new (string Name, Func<int, string> Url, int Requests, int Warmup)[]
        {
            ("first page", _ => $"/app/servers/{serverId}/activity", requests, warmup),
            ("page at offset 1,000-9,000", i => $"/app/servers/{serverId}/activity?offset={1000 + i % 9 * 1000}", requests, warmup),
            ("tag filter (exact)", i => $"/app/servers/{serverId}/activity?tag=t{i % 10}", filterRequests, 2),
            ("recipient contains", i => $"/app/servers/{serverId}/activity?recipient=user{i % 1000}@", filterRequests, 2),
        };
        Console.WriteLine($"{"case",-28} {"n",5} {"p50 ms",8} {"p90 ms",8} {"p99 ms",8} {"max ms",8}");
        foreach (var (name, url, n, warm) in cases)
        {
            for (var i = 0; i < warm; i++)
                await GetAsync(web, url(i), ct);
            var h = new LatencyHistogram(n);
            for (var i = 0; i < n; i++)
            {
                var start = Stopwatch.GetTimestamp();
                await GetAsync(web, url(i), ct);
                h.Record(Stopwatch.GetTimestamp() - start);
            }
            var l = LatencyHistogram.Merge([h]);
            Console.WriteLine($"{name,-28} {l.Count,5} {l.PercentileMs(50),8:0.0} {l.PercentileMs(90),8:0.0} {l.PercentileMs(99),8:0.0} {l.MaxMs,8:0.0}");
        }
        return 0;
    }

    private static async Task GetAsync(HttpClient web, string url, CancellationToken ct)
    {
        using var response = await web.GetAsync(url, ct);
        var body = await response.Content.ReadAsStringAsync(ct);
        if (response.StatusCode != HttpStatusCode.OK || !body.Contains("<table", StringComparison.Ordinal))
            throw new BenchException($"{url}: {(int)response.StatusCode}");
    }

    /// <summary>Rows as the send path leaves them after Preparation (Stage Prepared, Status Sent), one a second
    /// going back from now, 10 tags, 1,000 recipients.</summary>
    private static async Task SeedAsync(string dbPath, int serverId, int count, CancellationToken ct)
    {
        await using var conn = new SqliteConnection($"Data Source={dbPath};Pooling=false");
        await conn.OpenAsync(ct);
        await using (var pragma = conn.CreateCommand())
        {
            pragma.CommandText = "PRAGMA busy_timeout=30000;";
            await pragma.ExecuteNonQueryAsync(ct);
        }
        await using var tx = (SqliteTransaction)await conn.BeginTransactionAsync(ct);
        await using var cmd = conn.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = """
            INSERT INTO outbound_messages (Id, AccountId, ServerId, Stream, "From", Subject, Tag, ToJson, CcJson, BccJson, MetadataJson,
              AttachmentNamesJson, TrackOpens, TrackLinks, Sandboxed, ReturnPathDomain, Mime, RecipientsJson, Stage, StageDetail, Status, ReceivedAt)
            VALUES ($id, 1, $server, 'outbound', 'shop@bench.test', $subject, $tag, $to, '[]', '[]', '{}', '[]', 0, 'None', 0, '', NULL,
              $rcpts, 1, '', 1, $at)
            """;
        var id = cmd.Parameters.Add("$id", SqliteType.Text);
        cmd.Parameters.AddWithValue("$server", serverId);
        var subject = cmd.Parameters.Add("$subject", SqliteType.Text);
        var tag = cmd.Parameters.Add("$tag", SqliteType.Text);
        var to = cmd.Parameters.Add("$to", SqliteType.Text);
        var rcpts = cmd.Parameters.Add("$rcpts", SqliteType.Text);
        var at = cmd.Parameters.Add("$at", SqliteType.Integer);
        cmd.Prepare();
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        for (var i = 0; i < count; i++)
        {
            var email = $"user{i % 1000}@example.net";
            id.Value = Guid.NewGuid().ToString().ToUpperInvariant();
            subject.Value = $"Order {i} confirmed";
            tag.Value = $"t{i % 10}";
            to.Value = $"[{{\"Email\":\"{email}\",\"Name\":null}}]";
            rcpts.Value = $"[\"{email}\"]";
            at.Value = now - (long)i * 1000;
            await cmd.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
    }

    [GeneratedRegex("name=\"__af\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();
}
