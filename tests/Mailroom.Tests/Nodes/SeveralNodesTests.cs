using System.Collections.Concurrent;
using System.Diagnostics;
using Mailroom.Contracts;
using Npgsql;

namespace Mailroom.Tests.Nodes;

/// <summary>
/// Issue 20: several <c>mailroom serve</c> processes on one PostgreSQL database. Runs only when the suite runs on
/// PostgreSQL (<c>MAILROOM_TEST_DATABASE</c>); on SQLite (one file, one process) there is nothing to share.
/// </summary>
public sealed class SeveralNodesTests
{
    [Fact]
    public async Task ThreeNodesStartTogetherOnAnEmptyDatabaseShareKeysAndHandOverADeadNodesWork()
    {
        Assert.SkipWhen(!TestDatabase.IsPostgres, "Several nodes need PostgreSQL: set MAILROOM_TEST_DATABASE to a PostgreSQL connection string (SQLite is one file, one process).");
        var admin = Mailroom.Core.Storage.DatabaseSettings.NormalizePostgres(TestDatabase.PostgresAdminConnection!);
        // A database that does not exist yet: the nodes race to create it.
        var database = new NpgsqlConnectionStringBuilder(admin) { Database = "mrnodes_" + Guid.NewGuid().ToString("N")[..12], MaxPoolSize = 20 }.ConnectionString;
        var keyFolder = TestPaths.NewTempDirectory("mailroom-master");
        var masterKey = Path.Combine(keyFolder, "master.key");
        await File.WriteAllTextAsync(masterKey, Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)), TestContext.Current.CancellationToken);

        using var dns = TestDnsServer.Start();
        await using var sink = new SmtpSink(tls: false);
        // A slow receiver, so a node holds claims while it is killed.
        sink.RecipientReply = _ => { Thread.Sleep(15); return null; };
        string[] Args(string roles) => ["--platform-domain", "mailroom.test", "--dns", dns.Address, "--relay", $"127.0.0.1:{sink.Port}",
            "--roles", roles, "--master-key-file", masterKey];

        // 1. Started at the same instant on an empty database: all healthy.
        var starts = new[] { "all", "all", "delivery" }.Select(r => MailroomProcess.StartNodeAsync(database, Args(r), TimeSpan.FromMinutes(3))).ToList();
        await Task.WhenAll(starts.Select(t => t.ContinueWith(_ => { })));
        var nodes = starts.Where(t => t.IsCompletedSuccessfully).Select(t => t.Result).ToList();
        try
        {
            Assert.True(starts.All(t => t.IsCompletedSuccessfully), string.Join("\n", starts.Where(t => t.IsFaulted).Select(t => t.Exception!.InnerException!.Message)));
            var (a, b, c) = (nodes[0], nodes[1], nodes[2]);
            await using var pg = new NpgsqlConnection(database);
            await pg.OpenAsync(TestContext.Current.CancellationToken);
            Assert.Equal(1L, await Scalar(pg, "SELECT count(*) FROM dkim_keys WHERE \"DomainId\" IS NULL AND \"State\" = 1"));
            Assert.Equal(1L, await Scalar(pg, "SELECT count(*) FROM data_protection_keys"));
            await Eventually.True(async () => await Scalar(pg, "SELECT count(*) FROM nodes") == 3, because: "three heartbeats");

            // 2. A delivery-only node serves no API.
            using (var probe = new HttpClient { BaseAddress = new Uri(c.BaseUrl) })
            {
                Assert.Equal(HttpStatusCode.OK, (await probe.GetAsync("/health")).StatusCode);
                Assert.Equal(HttpStatusCode.NotFound, (await probe.GetAsync("/servers")).StatusCode);
                Assert.Equal(HttpStatusCode.NotFound, (await probe.GetAsync("/server")).StatusCode);
            }

            // 3. Secrets made through one node are read by the others (one key ring): the account made on A's folder,
            // servers made through A, mail sent through A and B, signed with the platform key by whichever node delivers.
            var account = await a.CreateAccountAsync("Nodes");
            using var adminA = AccountClient(a, account.AccountToken);
            var server = (await (await adminA.PostAsJsonAsync("/servers", new { Name = "Nodes" })).Content.ReadFromJsonAsync<ServerResponse>())!;
            var acknowledged = new ConcurrentDictionary<string, Guid>();
            const int perClient = 40;
            var clients = new[] { a, b }.SelectMany(n => Enumerable.Range(0, 4).Select(i => (Node: n, Client: i))).ToList();
            var sending = Task.WhenAll(clients.Select(x => Task.Run(async () =>
            {
                using var http = new HttpClient { BaseAddress = new Uri(x.Node.BaseUrl), Timeout = TimeSpan.FromSeconds(60) };
                http.DefaultRequestHeaders.Add("X-Postmark-Server-Token", server.ApiTokens[0]);
                for (var i = 0; i < perClient; i++)
                {
                    var rcpt = $"n{x.Node.Port}-c{x.Client}-m{i}@example.net";
                    var res = await http.PostAsJsonAsync("/email", new { From = "app@mailroom.test", To = rcpt, Subject = rcpt, TextBody = "nodes" });
                    Assert.True(res.IsSuccessStatusCode, await res.Content.ReadAsStringAsync());
                    acknowledged[rcpt] = Guid.Parse((await res.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("MessageID").GetString()!);
                }
            })));

            // 4. kill -9 of the delivery node while it holds claims.
            var cNode = (string)(await ScalarObject(pg, "SELECT \"Id\" FROM nodes WHERE \"Roles\" = 'delivery'"))!;
            long held = 0;
            await Eventually.True(async () => (held = await Scalar(pg, $"SELECT count(*) FROM deliveries WHERE \"State\" = 0 AND \"LeaseOwner\" = '{cNode}'")) > 0,
                timeoutSeconds: 120, because: "the delivery node claims work");
            var deliveredBeforeKill = sink.Messages.Count;
            await c.KillAsync();
            var killedAt = Stopwatch.StartNew();
            var heldAtKill = await Scalar(pg, $"SELECT count(*) FROM deliveries WHERE \"State\" = 0 AND \"LeaseOwner\" = '{cNode}'");
            await sending;
            await Eventually.True(async () => await Scalar(pg, $"SELECT count(*) FROM deliveries WHERE \"State\" = 0 AND \"LeaseOwner\" = '{cNode}'") == 0,
                timeoutSeconds: 120, because: "the dead node's claims move on");
            var handover = killedAt.Elapsed;
            await Eventually.True(() => Task.FromResult(Delivered(sink).Keys.Count(acknowledged.ContainsKey) == acknowledged.Count), timeoutSeconds: 180,
                because: $"{acknowledged.Count} acknowledged, {Delivered(sink).Keys.Count(acknowledged.ContainsKey)} delivered");
            var delivered = Delivered(sink);
            var missing = acknowledged.Keys.Where(r => !delivered.ContainsKey(r)).ToList();
            Assert.True(missing.Count == 0, $"{missing.Count} acknowledged messages never arrived");
            var duplicates = delivered.Values.Sum(n => n - 1);
            // At least once: only copies the killed node had sent without recording the outcome may come twice.
            Assert.InRange(duplicates, 0, Math.Max(held, heldAtKill));
            // Within the lease (60 s) plus one heartbeat interval (5 s).
            Assert.True(handover < TimeSpan.FromSeconds(66), $"claims moved after {handover.TotalSeconds:0.0} s");

            // 5. A deleted server's token is refused on every API node at once (NOTIFY), not after the cache's 2 s.
            var doomed = (await (await adminA.PostAsJsonAsync("/servers", new { Name = "Doomed" })).Content.ReadFromJsonAsync<ServerResponse>())!;
            var apiNodes = new[] { a, b };
            var tokenClients = apiNodes.Select(n =>
            {
                var h = new HttpClient { BaseAddress = new Uri(n.BaseUrl) };
                h.DefaultRequestHeaders.Add("X-Postmark-Server-Token", doomed.ApiTokens[0]);
                return h;
            }).ToList();
            foreach (var h in tokenClients)
                Assert.Equal(HttpStatusCode.OK, (await h.GetAsync("/server")).StatusCode); // cached now
            Assert.True((await adminA.DeleteAsync($"/servers/{doomed.ID}")).IsSuccessStatusCode);
            var deletedAt = Stopwatch.StartNew();
            var refusedAfter = new List<double>();
            foreach (var h in tokenClients)
            {
                while ((await h.GetAsync("/server")).StatusCode == HttpStatusCode.OK)
                    Assert.True(deletedAt.Elapsed < TimeSpan.FromSeconds(5), "the deleted server's token is still accepted");
                refusedAfter.Add(deletedAt.Elapsed.TotalMilliseconds);
            }
            foreach (var h in tokenClients)
                h.Dispose();
            // The cache's own expiry is 2 s: refusal well within it is the notification's doing.
            Assert.All(refusedAfter, ms => Assert.True(ms < 1000, $"refused after {ms:0} ms"));

            TestContext.Current.SendDiagnosticMessage(
                $"acknowledged {acknowledged.Count} via 2 nodes, delivered {delivered.Count} distinct, duplicates {duplicates}, delivered before kill {deliveredBeforeKill}, " +
                $"claims held by the killed node {heldAtKill}, moved after {handover.TotalSeconds:0.0} s, deleted server's token refused after {string.Join(" / ", refusedAfter.Select(m => m.ToString("0.0")))} ms");
        }
        finally
        {
            foreach (var n in nodes)
                await n.DisposeAsync();
        }
    }

    private static HttpClient AccountClient(MailroomProcess node, string accountToken)
    {
        var h = new HttpClient { BaseAddress = new Uri(node.BaseUrl) };
        h.DefaultRequestHeaders.Add("X-Postmark-Account-Token", accountToken);
        return h;
    }

    private static async Task<long> Scalar(NpgsqlConnection pg, string sql) => Convert.ToInt64(await ScalarObject(pg, sql));

    private static async Task<object?> ScalarObject(NpgsqlConnection pg, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, pg);
        return await cmd.ExecuteScalarAsync();
    }

    private static Dictionary<string, int> Delivered(SmtpSink sink) =>
        sink.Messages.SelectMany(m => m.Recipients).GroupBy(r => r, StringComparer.OrdinalIgnoreCase).ToDictionary(g => g.Key, g => g.Count(), StringComparer.OrdinalIgnoreCase);
}
