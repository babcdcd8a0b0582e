using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Mailroom.Bench;

/// <summary>
/// <c>opens</c>: the open-tracking image endpoint beside <c>GET /health</c> in the same run. A real Mailroom (all roles,
/// relay to a loopback sink) prepares one tracked message; its image URL is read from the message details, then both
/// endpoints get closed-loop load, alternating, over rounds. Every image fetch records an open: verified, queued and
/// written by the recorder's batching writer (one transaction per batch with its webhook outbox rows and counters; a full
/// queue slows the image down, so the writer's pace is measured too); /health answers from a probe cached for a second,
/// so it is the HTTP stack's ceiling.
/// </summary>
public static partial class OpensLoad
{
    public const string Help = """
        The open-tracking image (GET /t/o/{token}, each fetch records an open) beside GET /health, same run.
        usage: Mailroom.Bench opens [options]
          --postgres CONN      run Mailroom on PostgreSQL (a fresh database, dropped afterwards); default SQLite
          --seconds S          measured window per cell (default 10)
          --warmup S           warm-up per cell (default 2)
          --rounds N           rounds (default 3); the summary shows medians
          --concurrency LIST   concurrent clients (default 16)
          --repo DIR           checkout root (default: found from the working folder)
          --mailroom-dll PATH  default <repo>/src/Mailroom/bin/Release/net10.0/mailroom.dll
          --keep               keep the temp data folder
        Build first: dotnet build -c Release Mailroom.slnx
        """;

    private const string UserAgent = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148";

    [GeneratedRegex("/t/o/([A-Za-z0-9_-]{48})")]
    private static partial Regex PixelPath();

    public static async Task<int> RunAsync(BenchArgs args, CancellationToken ct)
    {
        var postgres = args.String("postgres");
        var seconds = args.Double("seconds", 10, 0.1);
        var warmup = args.Double("warmup", 2, 0);
        var rounds = args.Int("rounds", 3, 1);
        var concurrency = args.IntList("concurrency", [16]);
        var repo = args.String("repo");
        var dll = args.String("mailroom-dll");
        var keep = args.Flag("keep");
        args.RejectUnknown();

        Console.WriteLine("# Mailroom.Bench opens");
        Report.Environment(repo, postgres is null ? "SQLite" : "PostgreSQL",
            $"{warmup:0.#} s warm-up + {seconds:0.#} s measured per cell, {rounds} round(s), clients {string.Join(",", concurrency)}");
        await using var sink = new SmtpSink();
        await using var mailroom = await MailroomProcess.StartAsync(repo, dll, postgres, keep, ct,
            ["--roles", "all", "--platform-domain", "bench.test", "--dns", "127.0.0.1:9", "--relay", $"127.0.0.1:{sink.Port}", "--helo", "bench.test"]);
        Console.WriteLine($"mailroom: {mailroom.Dll}, {mailroom.Store}");
        var accountToken = (await mailroom.CreateAccountAsync("Bench", "bench@example.com", ct)).AccountToken;
        using var setup = LoadRunner.CreateClient(mailroom.BaseAddress, 1);
        var serverToken = await ServerTokenAsync(setup, accountToken, ct);
        var pixel = await TrackedPixelAsync(setup, serverToken, ct);
        Console.WriteLine($"setup: one tracked message prepared; image {pixel}");

        var cells = new (string Label, string Path, bool Image)[] { ("GET /health", "health", false), ("GET /t/o/{token}", pixel.TrimStart('/'), true) };
        var results = new Dictionary<(string, int), List<CellResult>>();
        for (var round = 1; round <= rounds; round++)
            foreach (var clients in concurrency)
                foreach (var (label, path, image) in cells)
                {
                    using var client = LoadRunner.CreateClient(mailroom.BaseAddress, clients);
                    var r = await LoadRunner.RunAsync(clients, TimeSpan.FromSeconds(warmup), TimeSpan.FromSeconds(seconds), async (w, n, c) =>
                    {
                        using var req = new HttpRequestMessage(HttpMethod.Get, path);
                        req.Headers.TryAddWithoutValidation("User-Agent", UserAgent);
                        using var res = await client.SendAsync(req, HttpCompletionOption.ResponseContentRead, c).ConfigureAwait(false);
                        if (res.StatusCode != HttpStatusCode.OK)
                            return Outcome.Status(res.StatusCode);
                        return !image || res.Content.Headers.ContentType?.MediaType == "image/gif" ? Outcome.Success : new Outcome(false, "not a GIF");
                    }, mailroom.Process, ct);
                    if (mailroom.Process is { HasExited: true } p)
                        throw new BenchException($"Mailroom exited ({p.ExitCode}) during the run:\n{mailroom.LogTail()}");
                    Console.WriteLine($"round {round}/{rounds}  {Report.Cell(label, r)}");
                    (results.TryGetValue((label, clients), out var list) ? list : results[(label, clients)] = []).Add(r);
                }
        Console.WriteLine();
        Console.WriteLine($"## Summary: median of {rounds} round(s) ({mailroom.Store.Split(' ')[0]})");
        Console.WriteLine();
        Report.Summary(results);
        foreach (var clients in concurrency)
        {
            double Median(string label) => results[(label, clients)].Select(r => r.RequestsPerSecond).Order().ElementAt(rounds / 2);
            Console.WriteLine($"\nc={clients}: image/health = {Median(cells[1].Label) / Median(cells[0].Label):0.00} (target >= 0.5)");
        }
        return 0;
    }

    private static async Task<string> ServerTokenAsync(HttpClient http, string accountToken, CancellationToken ct)
    {
        using var req = new HttpRequestMessage(HttpMethod.Post, "servers");
        req.Headers.TryAddWithoutValidation("X-Postmark-Account-Token", accountToken);
        req.Content = Json(new { Name = "bench opens" });
        using var res = await http.SendAsync(req, ct);
        var body = await res.Content.ReadAsStringAsync(ct);
        if (res.StatusCode != HttpStatusCode.OK)
            throw new BenchException($"POST /servers answered {(int)res.StatusCode}: {body}");
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.GetProperty("ApiTokens")[0].GetString()!;
    }

    /// <summary>Sends one tracked message and waits until Preparation has put its image in (read from the details' HtmlBody).</summary>
    private static async Task<string> TrackedPixelAsync(HttpClient http, string serverToken, CancellationToken ct)
    {
        using var send = new HttpRequestMessage(HttpMethod.Post, "email");
        send.Headers.TryAddWithoutValidation("X-Postmark-Server-Token", serverToken);
        send.Content = Json(new { From = "app@bench.test", To = "reader@example.com", Subject = "Tracked", HtmlBody = "<p>Hello</p>", TrackOpens = true });
        using var sent = await http.SendAsync(send, ct);
        var body = await sent.Content.ReadAsStringAsync(ct);
        if (sent.StatusCode != HttpStatusCode.OK)
            throw new BenchException($"POST /email answered {(int)sent.StatusCode}: {body}");
        var id = JsonDocument.Parse(body).RootElement.GetProperty("MessageID").GetString();
        for (var i = 0; i < 600; i++)
        {
            using var dump = new HttpRequestMessage(HttpMethod.Get, $"messages/outbound/{id}/details");
            dump.Headers.TryAddWithoutValidation("X-Postmark-Server-Token", serverToken);
            using var res = await http.SendAsync(dump, ct);
            var text = await res.Content.ReadAsStringAsync(ct);
            // Details carry the decoded HtmlBody (the dump is MIME, where the part may be base64 or quoted-printable).
            var m = PixelPath().Match(res.StatusCode == HttpStatusCode.OK ? JsonDocument.Parse(text).RootElement.GetProperty("HtmlBody").GetString() ?? "" : "");
            if (m.Success)
                return m.Value;
            await Task.Delay(100, ct);
        }
        throw new BenchException("the tracked message was not prepared within 60 s");
    }

    private static ByteArrayContent Json(object value)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(value)));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }
}
