using System.Collections.Concurrent;
using System.Data.Common;
using Mailroom.Contracts;

namespace Mailroom.Tests.Operations;

/// <summary>
/// SIGTERM under load: clients send while delivery is stuck in SMTP sessions at a remote server that does not
/// answer RCPT; <c>kill -TERM</c> stops the process cleanly, every message that got a 200 is in the store, and no
/// delivery is left claimed by the stopped process.
/// </summary>
public sealed class GracefulStopTests
{
    [Fact]
    public async Task SigtermKeepsAcknowledgedMailAndReleasesDeliveryClaims()
    {
        using var dns = TestDnsServer.Start();
        await using var sink = new SmtpSink(tls: false);
        using var remoteStuck = new ManualResetEventSlim(false);
        var rcptSeen = 0;
        sink.RecipientReply = _ =>
        {
            Interlocked.Increment(ref rcptSeen);
            remoteStuck.Wait(TimeSpan.FromMinutes(2)); // a remote server that hangs: delivery stays in flight, claimed
            return (451, "4.3.0 try later");
        };
        var args = ProcessApi.RelayingArgs(dns, sink);
        var server = await MailroomProcess.StartAsync(args);
        try
        {
            var created = await server.NewServerAsync("Stop", new { Name = "Stop" });

            var acknowledged = new ConcurrentDictionary<Guid, string>();
            using var stop = new CancellationTokenSource();
            var senders = Enumerable.Range(0, 6).Select(c => Task.Run(async () =>
            {
                using var http = server.ServerApi(created.ApiTokens[0], TimeSpan.FromSeconds(60));
                for (var i = 0; !stop.IsCancellationRequested; i++)
                {
                    var rcpt = $"c{c}-m{i}@example.net";
                    try
                    {
                        var res = await http.PostAsJsonAsync("/email", new { From = "app@mailroom.test", To = rcpt, Subject = rcpt, TextBody = "stop test" });
                        if (res.IsSuccessStatusCode)
                            acknowledged[Guid.Parse((await res.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("MessageID").GetString()!)] = rcpt;
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
                    {
                        return; // the server is going away: no 200, no promise
                    }
                }
            })).ToList();

            await Eventually.True(() => Task.FromResult(acknowledged.Count >= 100 && Volatile.Read(ref rcptSeen) > 0), timeoutSeconds: 120);
            var exit = await server.StopAsync(TimeSpan.FromSeconds(60));
            stop.Cancel();
            await Task.WhenAll(senders);
            remoteStuck.Set();
            Assert.True(exit == 0, "mailroom serve did not stop cleanly on SIGTERM:\n" + server.Output);

            await using var db = await OpenStoreAsync(server);
            var stored = new HashSet<Guid>();
            await using (var cmd = db.CreateCommand())
            {
                cmd.CommandText = "SELECT \"Id\" FROM outbound_messages";
                await using var reader = await cmd.ExecuteReaderAsync();
                while (await reader.ReadAsync())
                    stored.Add(reader.GetFieldValue<Guid>(0));
            }
            var lost = acknowledged.Keys.Where(id => !stored.Contains(id)).ToList();
            Assert.True(lost.Count == 0, $"{lost.Count} of {acknowledged.Count} acknowledged messages are not in the store");
            await using (var cmd = db.CreateCommand())
            {
                cmd.CommandText = "SELECT COUNT(*) FROM deliveries WHERE \"State\" = 0 AND \"LeaseOwner\" IS NOT NULL";
                Assert.Equal(0L, Convert.ToInt64(await cmd.ExecuteScalarAsync()));
            }
            Assert.Contains("released", server.Output);
            TestContext.Current.SendDiagnosticMessage($"acknowledged {acknowledged.Count}, stored {stored.Count}, RCPTs seen {rcptSeen}");
        }
        finally
        {
            remoteStuck.Set();
            await server.DisposeAsync();
            if (server.Database is null)
                try { Directory.Delete(server.DataDirectory, recursive: true); } catch (IOException) { }
        }
    }

    private static async Task<DbConnection> OpenStoreAsync(MailroomProcess server)
    {
        DbConnection connection = server.Database is { } pg
            ? new Npgsql.NpgsqlConnection(Mailroom.Core.Storage.DatabaseSettings.NormalizePostgres(pg))
            : new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(server.DataDirectory, "mailroom.db")}");
        await connection.OpenAsync();
        return connection;
    }
}
