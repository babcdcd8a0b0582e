using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Mailroom.Core.Stats;
using Mailroom.Core.Storage;
using Microsoft.EntityFrameworkCore;

namespace Mailroom.Bench;

/// <summary>
/// <c>stats</c>: a real Mailroom whose one server has N recorded events (default 1,000,000) spread over 45 days, 50
/// tags, 2 streams and the 5 mailbox providers, written through <see cref="StatsCounters"/> as the stages write them
/// (sends, deliveries, bounces, complaints, opens with platform and client, clicks with browser, platform and
/// location); then closed-loop GETs of <c>/stats/outbound</c> and <c>/stats/outbound/opens</c> over the 45 days (all
/// tags, and one tag), with p50/p99.
/// </summary>
public static class StatsLoad
{
    public const string Help = """
        Stats API over 1 million recorded events: p50/p99 of GET /stats/outbound and /stats/outbound/opens over 45 days.
          --events N           events recorded before measuring (default 1000000)
          --postgres CONN      run on PostgreSQL (a fresh database on this server); default SQLite
          --seconds S          measured window per cell (default 10)
          --warmup S           warm-up per cell (default 3)
          --rounds N           rounds (default 3)
          --concurrency LIST   clients (default 1,8)
          --repo DIR / --mailroom-dll PATH / --keep   as for 'api'
        Build first: dotnet build -c Release Mailroom.slnx
        """;

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static async Task<int> RunAsync(BenchArgs args, CancellationToken ct)
    {
        var events = args.Int("events", 1_000_000, 1);
        var postgres = args.String("postgres");
        var seconds = args.Double("seconds", 10, 0.1);
        var warmup = args.Double("warmup", 3, 0);
        var rounds = args.Int("rounds", 3, 1);
        var concurrency = args.IntList("concurrency", [1, 8]);
        var repo = args.String("repo");
        var dll = args.String("mailroom-dll");
        var keep = args.Flag("keep");
        args.RejectUnknown();

        Console.WriteLine("# Mailroom.Bench stats");
        Report.Environment(repo, postgres is null ? "SQLite" : "PostgreSQL",
            $"{events} events over 45 days, then {warmup:0.#} s warm-up + {seconds:0.#} s measured per cell, {rounds} round(s), clients {string.Join(",", concurrency)}");
        // Role api only: the HTTP API is what is measured, and no SMTP port is taken.
        await using var mailroom = await MailroomProcess.StartAsync(repo, dll, postgres, keep, ct, ["--roles", "api"]);
        Console.WriteLine($"mailroom: {mailroom.Dll}, {mailroom.Store}, roles api");
        var accountToken = (await mailroom.CreateAccountAsync("Bench", "bench@example.com", ct)).AccountToken;
        using var setup = LoadRunner.CreateClient(mailroom.BaseAddress, 1);
        var (serverId, serverToken) = await CreateServerAsync(setup, accountToken, ct);

        // Record the events.
        var options = postgres is null
            ? (DbContextOptions)new DbContextOptionsBuilder<SqliteMailroomDb>()
                .UseSqlite($"Data Source={Path.Combine(mailroom.DataDirectory, "mailroom.db")};Default Timeout=60").Options
            : new DbContextOptionsBuilder<PostgresMailroomDb>().UseNpgsql(mailroom.Database!).Options;
        var today = DateTimeOffset.UtcNow;
        var random = new Random(42);
        var watch = Stopwatch.StartNew();
        const int perTransaction = 5000;
        for (var done = 0; done < events; done += perTransaction)
        {
            ct.ThrowIfCancellationRequested();
            var batch = new List<StatsIncrement>(perTransaction * 4);
            for (var i = 0; i < Math.Min(perTransaction, events - done); i++)
                AddEvent(batch, random, serverId, today);
            await using var db = postgres is null ? new SqliteMailroomDb((DbContextOptions<SqliteMailroomDb>)options) : (MailroomDb)new PostgresMailroomDb((DbContextOptions<PostgresMailroomDb>)options);
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            await StatsCounters.AddAsync(db, batch, ct);
            await tx.CommitAsync(ct);
        }
        long rows;
        await using (var db = postgres is null ? new SqliteMailroomDb((DbContextOptions<SqliteMailroomDb>)options) : (MailroomDb)new PostgresMailroomDb((DbContextOptions<PostgresMailroomDb>)options))
            rows = await db.StatsCounters.LongCountAsync(ct);
        Console.WriteLine(string.Create(Inv, $"recorded {events} events in {watch.Elapsed.TotalSeconds:0.0} s ({events / watch.Elapsed.TotalSeconds:0} events/s through StatsCounters, {perTransaction} per transaction): {rows} counter rows"));

        var from = StatsCalendar.DateOf(today.AddDays(-44)).ToString("yyyy-MM-dd", Inv);
        var to = StatsCalendar.DateOf(today).ToString("yyyy-MM-dd", Inv);
        var cells = new (string Label, string Path)[]
        {
            ("GET /stats/outbound", $"stats/outbound?fromdate={from}&todate={to}"),
            ("GET /stats/outbound/opens", $"stats/outbound/opens?fromdate={from}&todate={to}"),
            ("GET /stats/outbound tag", $"stats/outbound?fromdate={from}&todate={to}&tag=tag-7"),
            ("GET /stats/outbound/opens tag", $"stats/outbound/opens?fromdate={from}&todate={to}&tag=tag-7"),
        };
        // One answer checked, so the figures are of real work.
        using (var req = new HttpRequestMessage(HttpMethod.Get, cells[0].Path))
        {
            req.Headers.TryAddWithoutValidation("X-Postmark-Server-Token", serverToken);
            using var res = await setup.SendAsync(req, ct);
            var body = await res.Content.ReadAsStringAsync(ct);
            if (res.StatusCode != HttpStatusCode.OK)
                throw new BenchException($"{cells[0].Path} answered {(int)res.StatusCode}: {body}");
            Console.WriteLine($"{cells[0].Path}: {body}");
        }
        Console.WriteLine();

        var results = new Dictionary<(string, int), List<CellResult>>();
        for (var round = 1; round <= rounds; round++)
            foreach (var (label, path) in cells)
                foreach (var clients in concurrency)
                {
                    using var client = LoadRunner.CreateClient(mailroom.BaseAddress, clients);
                    var r = await LoadRunner.RunAsync(clients, TimeSpan.FromSeconds(warmup), TimeSpan.FromSeconds(seconds), async (w, n, c) =>
                    {
                        using var req = new HttpRequestMessage(HttpMethod.Get, path);
                        req.Headers.TryAddWithoutValidation("X-Postmark-Server-Token", serverToken);
                        using var res = await client.SendAsync(req, HttpCompletionOption.ResponseContentRead, c).ConfigureAwait(false);
                        return res.StatusCode == HttpStatusCode.OK ? Outcome.Success : Outcome.Status(res.StatusCode);
                    }, mailroom.Process, ct);
                    Console.WriteLine($"round {round}/{rounds}  {Report.Cell(label, r)}");
                    if (!results.TryGetValue((label, clients), out var list))
                        results[(label, clients)] = list = [];
                    list.Add(r);
                }
        Console.WriteLine();
        Console.WriteLine($"## Summary: median of {rounds} round(s) ({mailroom.Store.Split(' ')[0]}, {events} events, {rows} counter rows)");
        Console.WriteLine();
        Report.Summary(results);
        return 0;
    }

    private static readonly string[] Clients = ["Apple Mail", "Gmail", "Outlook", "Thunderbird", "iOS Mail", "Yahoo Mail", "Samsung Mail", "Chrome", "Firefox", "Edge"];
    private static readonly string[] Platforms = ["Desktop", "WebMail", "Mobile", "Unknown"];
    private static readonly string[] Browsers = ["Chrome", "Safari", "Firefox", "Edge", "Opera", "Samsung Internet"];

    /// <summary>One event with the increments its stage adds: a send, a delivery, an open, a click, a bounce or a complaint.</summary>
    private static void AddEvent(List<StatsIncrement> batch, Random random, int serverId, DateTimeOffset today)
    {
        var at = today.AddDays(-random.Next(45)).AddMinutes(-random.Next(1440));
        var stream = random.Next(4) == 0 ? "broadcast" : "outbound";
        var tag = "tag-" + random.Next(50).ToString(Inv);
        var provider = (MailboxProvider)random.Next(5);
        StatsIncrement I(StatsMetric m, string key = "") => new(serverId, stream, tag, at, m, key, provider);
        var kind = random.Next(100);
        if (kind < 40)
        {
            batch.Add(I(StatsMetric.Sent));
            batch.Add(I(StatsMetric.Tracked));
            batch.Add(I(StatsMetric.WithOpenTracking));
        }
        else if (kind < 75)
            batch.Add(I(StatsMetric.Delivered));
        else if (kind < 90)
        {
            batch.Add(I(StatsMetric.Opened));
            if (random.Next(2) == 0)
            {
                batch.Add(I(StatsMetric.UniqueOpen));
                batch.Add(I(StatsMetric.OpenPlatform, Platforms[random.Next(Platforms.Length)]));
                batch.Add(I(StatsMetric.OpenClient, Clients[random.Next(Clients.Length)]));
            }
        }
        else if (kind < 95)
        {
            batch.Add(I(StatsMetric.Clicked));
            batch.Add(I(StatsMetric.ClickBrowser, Browsers[random.Next(Browsers.Length)]));
            batch.Add(I(StatsMetric.ClickPlatform, Platforms[random.Next(Platforms.Length)]));
            batch.Add(I(StatsMetric.ClickLocation, random.Next(3) == 0 ? "Text" : "HTML"));
        }
        else if (kind < 98)
            batch.Add(I(StatsMetric.Bounced, random.Next(3) == 0 ? "SoftBounce" : "HardBounce"));
        else
            batch.Add(I(StatsMetric.SpamComplaint));
    }

    private static async Task<(int Id, string Token)> CreateServerAsync(HttpClient http, string accountToken, CancellationToken ct)
    {
        using var req = new HttpRequestMessage(HttpMethod.Post, "servers");
        req.Headers.TryAddWithoutValidation("X-Postmark-Account-Token", accountToken);
        req.Content = new StringContent(JsonSerializer.Serialize(new { Name = $"stats bench {Environment.ProcessId}" }), Encoding.UTF8, "application/json");
        using var res = await http.SendAsync(req, ct);
        var body = await res.Content.ReadAsStringAsync(ct);
        if (res.StatusCode != HttpStatusCode.OK)
            throw new BenchException($"POST /servers answered {(int)res.StatusCode}: {body}");
        using var doc = JsonDocument.Parse(body);
        return (doc.RootElement.GetProperty("ID").GetInt32(), doc.RootElement.GetProperty("ApiTokens")[0].GetString()!);
    }
}
