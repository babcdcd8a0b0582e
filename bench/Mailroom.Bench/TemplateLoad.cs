using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Mailroom.Bench;

/// <summary>
/// <c>templates</c>: <c>POST /email/batchWithTemplates</c> (500 messages, a layout + a template with an each over
/// 10 items, a different model per message) beside <c>POST /email/batch</c> of the same 500 messages pre-rendered
/// (rendered once, at setup, by <c>/templates/validate</c>), alternating in each round on one Mailroom, so both see
/// the same database size and machine load. The ratio of the medians is the cost of rendering at accept time.
/// </summary>
public static class TemplateLoad
{
    public const string Help = """
        Templated batch accept (/email/batchWithTemplates) beside /email/batch of the same pre-rendered messages.
        usage: Mailroom.Bench templates [options]
          --postgres CONN      run Mailroom on PostgreSQL (a fresh database on this server); default SQLite
          --seconds S          measured window per cell (default 5)
          --warmup S           warm-up per cell, not measured (default 1)
          --jit-warmup S       once, before round 1, per endpoint (default 8)
          --rounds N           rounds; each runs both endpoints (default 3)
          --clients N          concurrent clients (default 2)
          --repo DIR, --mailroom-dll PATH, --keep   as for 'send'
        Build first: dotnet build -c Release Mailroom.slnx
        """;

    private const string ServerTokenHeader = "X-Postmark-Server-Token";
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private const string LayoutHtml = """
        <html><head><title>{{company}}</title></head><body>
        <table class="outer"><tr><td><h1>{{company}}</h1></td></tr>
        <tr><td>{{{ @content }}}</td></tr>
        <tr><td class="footer">{{company}} · {{address}} · <a href="{{{ unsubscribe_url }}}">unsubscribe</a></td></tr></table>
        </body></html>
        """;

    private const string LayoutText = "{{company}}\n\n{{{ @content }}}\n\n--\n{{company}}, {{address}}";

    private const string TemplateHtml = """
        <p>Hello {{name}},</p><p>Your order {{order.id}} of {{order.date}}:</p>
        <table>{{#each items}}<tr><td>{{title}}</td><td>{{qty}}</td><td>{{price}}</td></tr>{{/each}}</table>
        {{#order.note}}<p>{{order.note}}</p>{{/order.note}}<p>Total: {{order.total}}</p>
        """;

    private const string TemplateText = "Hello {{name}},\nYour order {{order.id}} of {{order.date}}:\n{{#each items}}- {{title}} x{{qty}} {{price}}\n{{/each}}Total: {{order.total}}";

    private static object Model(int n) => new
    {
        company = "Bench & Co",
        address = "1 Loopback Way",
        unsubscribe_url = $"https://bench.test/u/{n}",
        name = $"User <{n}>",
        order = new { id = $"A-{n:D6}", date = "2026-12-05", total = $"{10 * n % 997}.00", note = n % 2 == 0 ? "Gift wrapped" : "" },
        items = Enumerable.Range(1, 10).Select(i => new { title = $"Item {i} for {n}", qty = i, price = $"{i}.50" }).ToArray(),
    };

    public static async Task<int> RunAsync(BenchArgs args, CancellationToken ct)
    {
        var postgres = args.String("postgres");
        var seconds = TimeSpan.FromSeconds(args.Double("seconds", 5, 0.1));
        var warmup = TimeSpan.FromSeconds(args.Double("warmup", 1, 0));
        var jitWarmup = TimeSpan.FromSeconds(args.Double("jit-warmup", 8, 0));
        var rounds = args.Int("rounds", 3, 1);
        var clients = args.Int("clients", 2, 1);
        var repo = args.String("repo");
        var dll = args.String("mailroom-dll");
        var keep = args.Flag("keep");
        args.RejectUnknown();

        Console.WriteLine("# Mailroom.Bench templates");
        Report.Environment(repo, postgres is null ? "SQLite" : "PostgreSQL",
            $"JIT warm-up {jitWarmup.TotalSeconds:0.#} s per endpoint, then per round {warmup.TotalSeconds:0.#} s + {seconds.TotalSeconds:0.#} s per endpoint, {rounds} round(s), {clients} client(s), 500 messages per batch");
        await using var mailroom = await MailroomProcess.StartAsync(repo, dll, postgres, keep, ct,
            ["--roles", "api", "--platform-domain", "bench.test", "--dns", "127.0.0.1:9"]);
        var token = await SendLoad.SetupAsync(mailroom, ct);
        using var http = LoadRunner.CreateClient(mailroom.BaseAddress, Math.Max(clients, 4));

        await CallAsync(http, token, HttpMethod.Post, "templates", new { Name = "Layout", Alias = "bench-layout", TemplateType = "Layout", HtmlBody = LayoutHtml, TextBody = LayoutText }, ct);
        await CallAsync(http, token, HttpMethod.Post, "templates", new { Name = "Order", Alias = "bench-order", Subject = "Order {{order.id}} for {{name}}", HtmlBody = TemplateHtml, TextBody = TemplateText, LayoutTemplate = "bench-layout" }, ct);

        // The same 500 messages: templated, and rendered once here by the server's own renderer.
        var templated = Enumerable.Range(0, 500).Select(n => new
        {
            From = "app@bench.test", To = $"user{n % 100}@sink.test", TemplateAlias = "bench-order", TemplateModel = Model(n), InlineCss = true,
        }).ToArray();
        var rendered = new object[500];
        await Parallel.ForEachAsync(Enumerable.Range(0, 500), new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = ct }, async (n, c) =>
        {
            var v = await CallAsync(http, token, HttpMethod.Post, "templates/validate", new
            {
                Subject = "Order {{order.id}} for {{name}}", HtmlBody = TemplateHtml, TextBody = TemplateText, LayoutTemplate = "bench-layout",
                TestRenderModel = Model(n), InlineCssForHtmlTestRender = true,
            }, c);
            rendered[n] = new
            {
                From = "app@bench.test", To = $"user{n % 100}@sink.test",
                Subject = v.GetProperty("Subject").GetProperty("RenderedContent").GetString(),
                HtmlBody = v.GetProperty("HtmlBody").GetProperty("RenderedContent").GetString(),
                TextBody = v.GetProperty("TextBody").GetProperty("RenderedContent").GetString(),
            };
        });
        var templatedJson = JsonSerializer.SerializeToUtf8Bytes(new { Messages = templated });
        var plainJson = JsonSerializer.SerializeToUtf8Bytes(rendered);
        Console.WriteLine(string.Create(Inv, $"setup: layout + template created; request bodies {templatedJson.Length / 1024} KB templated, {plainJson.Length / 1024} KB pre-rendered"));
        await CheckAllAcceptedAsync(http, token, "email/batchWithTemplates", templatedJson, ct);
        await CheckAllAcceptedAsync(http, token, "email/batch", plainJson, ct);
        Console.WriteLine("setup: one batch of each accepted, every item ErrorCode 0");

        Func<int, long, CancellationToken, Task<Outcome>> Post(HttpClient client, string path, byte[] json) => async (w, n, c) =>
        {
            using var req = new HttpRequestMessage(HttpMethod.Post, path);
            req.Headers.TryAddWithoutValidation(ServerTokenHeader, token);
            req.Content = new ByteArrayContent(json);
            req.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var res = await client.SendAsync(req, HttpCompletionOption.ResponseContentRead, c).ConfigureAwait(false);
            await res.Content.LoadIntoBufferAsync(c).ConfigureAwait(false);
            return res.StatusCode == HttpStatusCode.OK ? Outcome.Success : Outcome.Status(res.StatusCode);
        };

        var cells = new (string Label, string Path, byte[] Json)[]
        {
            ("POST /email/batchWithTemplates", "email/batchWithTemplates", templatedJson),
            ("POST /email/batch (pre-rendered)", "email/batch", plainJson),
        };
        if (jitWarmup > TimeSpan.Zero)
            foreach (var (label, path, json) in cells)
            {
                using var c = LoadRunner.CreateClient(mailroom.BaseAddress, clients);
                await SendLoad.BatchCellAsync(clients, TimeSpan.Zero, jitWarmup, Post(c, path, json), mailroom.Process, ct);
                Console.WriteLine($"jit warm-up  {label} {jitWarmup.TotalSeconds:0.#} s");
            }

        var results = cells.ToDictionary(c => c.Label, _ => new List<SendLoad.BatchResult>());
        for (var r = 1; r <= rounds; r++)
        {
            foreach (var (label, path, json) in cells)
            {
                using var c = LoadRunner.CreateClient(mailroom.BaseAddress, clients);
                var res = await SendLoad.BatchCellAsync(clients, warmup, seconds, Post(c, path, json), mailroom.Process, ct);
                if (mailroom.Process is { HasExited: true } p)
                    throw new BenchException($"Mailroom exited ({p.ExitCode}) during the run:\n{mailroom.LogTail()}");
                results[label].Add(res);
                Console.WriteLine(string.Create(Inv, $"round {r}/{rounds}  {label,-34} c={clients} {res.Rate,7:0} msgs/s  batch p50 {res.P50Ms,6:0} ms  errors {res.Errors}  cpu% mailroom {res.ServerCpu:0} machine {res.Machine:0}  mailroom cpu/msg {res.CpuMsPerMsg:0.000} ms"));
            }
        }

        Console.WriteLine();
        Console.WriteLine($"## Summary: median of {rounds} round(s) ({mailroom.Store.Split(' ')[0]}, {clients} client(s))");
        Console.WriteLine();
        Console.WriteLine("| endpoint | msgs/s | batch p50 ms | mailroom cpu/msg ms |");
        Console.WriteLine("| --- | ---: | ---: | ---: |");
        foreach (var (label, list) in results)
            Console.WriteLine(string.Create(Inv, $"| {label} | {Report.Median(list.Select(x => x.Rate)):0} | {Report.Median(list.Select(x => x.P50Ms)):0} | {Report.Median(list.Select(x => x.CpuMsPerMsg)):0.000} |"));
        var ratio = Report.Median(results[cells[0].Label].Select(x => x.Rate)) / Report.Median(results[cells[1].Label].Select(x => x.Rate));
        Console.WriteLine();
        Console.WriteLine(string.Create(Inv, $"templated / pre-rendered throughput: {ratio:0.00} (target ≥ 0.80)"));
        return 0;
    }

    private static async Task<JsonElement> CallAsync(HttpClient http, string token, HttpMethod method, string path, object body, CancellationToken ct)
    {
        using var req = new HttpRequestMessage(method, path);
        req.Headers.TryAddWithoutValidation(ServerTokenHeader, token);
        req.Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
        using var res = await http.SendAsync(req, ct);
        var text = await res.Content.ReadAsStringAsync(ct);
        if (res.StatusCode != HttpStatusCode.OK)
            throw new BenchException($"{method} /{path} answered {(int)res.StatusCode}: {text[..Math.Min(600, text.Length)]}");
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.Clone();
    }

    private static async Task CheckAllAcceptedAsync(HttpClient http, string token, string path, byte[] json, CancellationToken ct)
    {
        using var req = new HttpRequestMessage(HttpMethod.Post, path);
        req.Headers.TryAddWithoutValidation(ServerTokenHeader, token);
        req.Content = new ByteArrayContent(json);
        req.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var res = await http.SendAsync(req, ct);
        var text = await res.Content.ReadAsStringAsync(ct);
        if (res.StatusCode != HttpStatusCode.OK)
            throw new BenchException($"POST /{path} answered {(int)res.StatusCode}: {text[..Math.Min(600, text.Length)]}");
        using var doc = JsonDocument.Parse(text);
        foreach (var e in doc.RootElement.EnumerateArray())
            if (e.GetProperty("ErrorCode").GetInt32() != 0)
                throw new BenchException($"POST /{path}: item refused: {e}");
    }
}
