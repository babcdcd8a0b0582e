using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Mailroom.Bench;

/// <summary>
/// <c>api</c>: closed-loop load on the HTTP API of a real Mailroom (Release build, child process):
/// <c>GET /server</c> (server token) and <c>POST /servers</c> (account token, a new uniquely named server each
/// time) at each concurrency, for a fixed window after a warm-up, repeated over rounds; prints each cell as it
/// runs, then the medians across rounds.
/// </summary>
public static class ApiLoad
{
    public const string Help = """
        Load on the HTTP API: GET /server and POST /servers at 1 and 64 concurrent clients.
        usage: Mailroom.Bench api [options]
          --postgres CONN      run Mailroom on PostgreSQL: a fresh database is created on this server
                               (e.g. "Host=127.0.0.1;Port=5432;Username=postgres") and dropped afterwards;
                               default SQLite in a temp folder
          --seconds S          measured window per cell (default 10)
          --warmup S           warm-up per cell, not measured (default 2)
          --jit-warmup S       once, before round 1: every cell runs S seconds unmeasured so the JIT has
                               tiered the request path up (default 10; on 2 busy cores tiering takes ~20 s)
          --rounds N           rounds of every cell; the summary shows medians across rounds (default 3)
          --concurrency LIST   concurrent clients, comma-separated (default 1,64)
          --endpoints LIST     get-server,post-servers (default both); health = GET /health, a baseline
                               without token or database
          --repo DIR           checkout root (default: found from the working folder)
          --mailroom-dll PATH  default <repo>/src/Mailroom/bin/Release/net10.0/mailroom.dll
          --keep               keep the temp data folder (and PostgreSQL database) for inspection
        Build first: dotnet build -c Release Mailroom.slnx
        """;

    private const string AccountTokenHeader = "X-Postmark-Account-Token";
    private const string ServerTokenHeader = "X-Postmark-Server-Token";

    private sealed record Endpoint(string Key, string Label, Func<HttpClient, string, Func<int, long, CancellationToken, Task<Outcome>>> Make);

    public static async Task<int> RunAsync(BenchArgs args, CancellationToken ct)
    {
        var postgres = args.String("postgres");
        var seconds = args.Double("seconds", 10, 0.1);
        var warmup = args.Double("warmup", 2, 0);
        var jitWarmup = args.Double("jit-warmup", 10, 0);
        var rounds = args.Int("rounds", 3, 1);
        var concurrency = args.IntList("concurrency", [1, 64]);
        var endpointKeys = args.StringList("endpoints", ["get-server", "post-servers"]);
        var repo = args.String("repo");
        var dll = args.String("mailroom-dll");
        var keep = args.Flag("keep");
        args.RejectUnknown();

        string accountToken = "", serverToken = "";
        var all = new Dictionary<string, Endpoint>
        {
            // Baseline: Kestrel + routing + JSON, no token and no database.
            ["health"] = new("health", "GET /health", (client, _) => async (w, n, c) =>
            {
                using var res = await client.GetAsync("health", HttpCompletionOption.ResponseContentRead, c).ConfigureAwait(false);
                return res.StatusCode == HttpStatusCode.OK ? Outcome.Success : Outcome.Status(res.StatusCode);
            }),
            ["get-server"] = new("get-server", "GET /server", (client, _) => async (w, n, c) =>
            {
                using var req = new HttpRequestMessage(HttpMethod.Get, "server");
                req.Headers.TryAddWithoutValidation(ServerTokenHeader, serverToken);
                using var res = await client.SendAsync(req, HttpCompletionOption.ResponseContentRead, c).ConfigureAwait(false);
                return res.StatusCode == HttpStatusCode.OK ? Outcome.Success : Outcome.Status(res.StatusCode);
            }),
            ["post-servers"] = new("post-servers", "POST /servers", (client, cell) => async (w, n, c) =>
            {
                using var req = new HttpRequestMessage(HttpMethod.Post, "servers");
                req.Headers.TryAddWithoutValidation(AccountTokenHeader, accountToken);
                req.Content = JsonBody($"{{\"Name\":\"bench {cell} w{w} n{n}\"}}");
                using var res = await client.SendAsync(req, HttpCompletionOption.ResponseContentRead, c).ConfigureAwait(false);
                return res.StatusCode == HttpStatusCode.OK ? Outcome.Success : Outcome.Status(res.StatusCode);
            }),
        };
        var endpoints = endpointKeys.Select(k => all.TryGetValue(k, out var e) ? e
            : throw new BenchException($"unknown endpoint '{k}'; use {string.Join(", ", all.Keys)}")).ToList();

        Console.WriteLine("# Mailroom.Bench api");
        Report.Environment(repo, postgres is null ? "SQLite" : "PostgreSQL",
            $"JIT warm-up {jitWarmup:0.#} s per cell once, then {warmup:0.#} s warm-up + {seconds:0.#} s measured per cell, {rounds} round(s), clients {string.Join(",", concurrency)}");

        await using var mailroom = await MailroomProcess.StartAsync(repo, dll, postgres, keep, ct);
        Console.WriteLine($"mailroom: {mailroom.Dll} (built {File.GetLastWriteTimeUtc(mailroom.Dll):yyyy-MM-dd HH:mm} UTC)");
        Console.WriteLine($"          {mailroom.BaseAddress} pid {mailroom.Process?.Id}, {mailroom.Store}, data {mailroom.DataDirectory}");
        accountToken = (await mailroom.CreateAccountAsync("Bench", "bench@example.com", ct)).AccountToken;

        using var setup = LoadRunner.CreateClient(mailroom.BaseAddress, 1);
        serverToken = await CreateServerAsync(setup, accountToken, $"bench target {Environment.ProcessId}", ct);
        await CheckGetServerAsync(setup, serverToken, ct);
        Console.WriteLine("setup: account created (mailroom accounts create --json), target server created, GET /server checked");
        Console.WriteLine();

        var cellNo = 0;
        if (jitWarmup > 0)
        {
            // Tiered JIT: the first thousands of requests run unoptimized code and the JIT competes for the 2 cores
            // (dotnet-counters showed 2-4 s of JIT per 5 s for the first ~20 s after start), so warm up every cell first.
            foreach (var endpoint in endpoints)
                foreach (var clients in concurrency)
                {
                    using var client = LoadRunner.CreateClient(mailroom.BaseAddress, clients);
                    var w = await LoadRunner.RunAsync(clients, TimeSpan.FromSeconds(jitWarmup), TimeSpan.FromSeconds(0.2),
                        endpoint.Make(client, $"{Environment.ProcessId}-{++cellNo}"), mailroom.Process, ct);
                    Console.WriteLine($"jit warm-up  {endpoint.Label,-13} c={clients,-3} {jitWarmup:0.#} s  (last 0.2 s: {w.RequestsPerSecond:0} req/s, {w.Errors} errors)");
                }
            Console.WriteLine();
        }

        var results = new Dictionary<(string, int), List<CellResult>>();
        for (var round = 1; round <= rounds; round++)
        {
            foreach (var endpoint in endpoints)
            {
                foreach (var clients in concurrency)
                {
                    ct.ThrowIfCancellationRequested();
                    using var client = LoadRunner.CreateClient(mailroom.BaseAddress, clients);
                    var send = endpoint.Make(client, $"{Environment.ProcessId}-{++cellNo}");
                    var r = await LoadRunner.RunAsync(clients, TimeSpan.FromSeconds(warmup), TimeSpan.FromSeconds(seconds),
                        send, mailroom.Process, ct);
                    if (mailroom.Process is { HasExited: true } p)
                        throw new BenchException($"Mailroom exited ({p.ExitCode}) during the run:\n{mailroom.LogTail()}");
                    var extra = endpoint.Key == "post-servers"
                        ? $"  servers in account after: {await CountServersAsync(setup, accountToken, ct)}"
                        : "";
                    Console.WriteLine($"round {round}/{rounds}  {Report.Cell(endpoint.Label, r)}{extra}");
                    if (!results.TryGetValue((endpoint.Label, clients), out var list))
                        results[(endpoint.Label, clients)] = list = [];
                    list.Add(r);
                }
            }
        }

        Console.WriteLine();
        Console.WriteLine($"## Summary: median of {rounds} round(s) ({mailroom.Store.Split(' ')[0]})");
        Console.WriteLine();
        Report.Summary(results);
        var errorKinds = results.Values.SelectMany(l => l).SelectMany(r => r.ErrorKinds)
            .GroupBy(kv => kv.Key).Select(g => $"{g.Key} × {g.Sum(kv => kv.Value)}").ToList();
        if (errorKinds.Count > 0)
            Console.WriteLine($"\nerrors: {string.Join("; ", errorKinds)} (see the Mailroom log: rerun with --keep)");
        return 0;
    }

    private static ByteArrayContent JsonBody(string json)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(json));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    private static async Task<string> CreateServerAsync(HttpClient http, string accountToken, string name, CancellationToken ct)
    {
        using var req = new HttpRequestMessage(HttpMethod.Post, "servers");
        req.Headers.TryAddWithoutValidation(AccountTokenHeader, accountToken);
        req.Content = JsonBody(JsonSerializer.Serialize(new { Name = name }));
        using var res = await http.SendAsync(req, ct);
        var body = await res.Content.ReadAsStringAsync(ct);
        if (res.StatusCode != HttpStatusCode.OK)
            throw new BenchException($"POST /servers answered {(int)res.StatusCode}: {body}");
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.GetProperty("ApiTokens")[0].GetString() ?? throw new BenchException($"no ApiTokens in {body}");
    }

    private static async Task CheckGetServerAsync(HttpClient http, string serverToken, CancellationToken ct)
    {
        using var req = new HttpRequestMessage(HttpMethod.Get, "server");
        req.Headers.TryAddWithoutValidation(ServerTokenHeader, serverToken);
        using var res = await http.SendAsync(req, ct);
        var body = await res.Content.ReadAsStringAsync(ct);
        if (res.StatusCode != HttpStatusCode.OK || !body.Contains(serverToken, StringComparison.Ordinal))
            throw new BenchException($"GET /server answered {(int)res.StatusCode}: {body}");
    }

    private static async Task<int> CountServersAsync(HttpClient http, string accountToken, CancellationToken ct)
    {
        using var req = new HttpRequestMessage(HttpMethod.Get, "servers?count=1&offset=0");
        req.Headers.TryAddWithoutValidation(AccountTokenHeader, accountToken);
        using var res = await http.SendAsync(req, ct);
        if (res.StatusCode != HttpStatusCode.OK)
            return -1;
        using var doc = JsonDocument.Parse(await res.Content.ReadAsStringAsync(ct));
        return doc.RootElement.GetProperty("TotalCount").GetInt32();
    }
}
