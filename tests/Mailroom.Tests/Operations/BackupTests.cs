using Mailroom.Cli;

namespace Mailroom.Tests.Operations;

public sealed class BackupTests
{
    private static Task<(int Exit, string Output, string Error)> InvokeAsync(params string[] args) => InProcessCli.InvokeAsync(args);

    [Fact]
    public async Task BackupOfARunningStoreRestoresWithItsSecrets()
    {
        // The archive's store copy is SQLite's; PostgreSQL is dumped with pg_dump (docs/operations.md).
        Assert.SkipWhen(TestDatabase.IsPostgres, "backup copies a SQLite store; PostgreSQL is dumped with pg_dump");
        await using var host = await MailroomHost.StartAsync();
        var t = await host.CreateTenantAsync();
        var sent = await t.ServerApi.PostAsJsonAsync("/email", new { From = "app@mailroom.test", To = "jo@example.net", Subject = "Kept", TextBody = "Hi" }).OkJson();
        var id = sent.GetProperty("MessageID").GetString();
        var archive = Path.Combine(TestPaths.NewTempDirectory(), "mailroom.tar.gz");

        // While the host runs and holds the store open.
        var (exit, output, error) = await InvokeAsync("backup", "--to", archive, "--data", host.DataDirectory);
        Assert.True(exit == 0, output + error);
        Assert.Contains("mailroom.db", output);
        Assert.Contains("keys/", output);
        Assert.Contains("master.key", output);

        var restored = Path.Combine(TestPaths.NewTempDirectory(), "data");
        (exit, output, error) = await InvokeAsync("restore", "--from", archive, "--data", restored);
        Assert.True(exit == 0, output + error);
        Assert.False(File.Exists(Path.Combine(restored, "node-id")));

        await using var copy = await MailroomHost.StartAsync(tweak: s => s with { DataDirectory = restored, Database = null });
        // The server token decrypts with the restored key ring and master key, and the message is there.
        var again = copy.ServerClient(t.Server.ApiTokens[0]);
        var details = await again.GetAsync($"/messages/outbound/{id}/details").OkJson();
        Assert.Equal("Kept", details.GetProperty("Subject").GetString());
    }

    [Fact]
    public async Task RestoreRefusesAFolderThatIsNotEmpty()
    {
        var data = TestPaths.NewTempDirectory();
        File.WriteAllText(Path.Combine(data, "something"), "x");
        var archive = Path.Combine(TestPaths.NewTempDirectory(), "none.tar.gz");
        File.WriteAllBytes(archive, [1, 2, 3]);
        var (exit, _, error) = await InvokeAsync("restore", "--from", archive, "--data", data);
        Assert.Equal(2, exit);
        Assert.Contains("not empty", error);
        Assert.Equal(["something"], Directory.GetFileSystemEntries(data).Select(Path.GetFileName));
    }

    [Fact]
    public async Task StartIsRefusedOnAStoreMigratedByANewerVersion()
    {
        var host = await MailroomHost.StartAsync();
        try
        {
            await host.ScopedAsync(async sp =>
            {
                var db = sp.GetRequiredService<MailroomDb>();
                return await db.Database.ExecuteSqlRawAsync(
                    "INSERT INTO \"__EFMigrationsHistory\" (\"MigrationId\", \"ProductVersion\") VALUES ('29991231000000_FromTheFuture', '99.0.0')");
            });
            await host.App.StopAsync();
            var e = await Assert.ThrowsAsync<InvalidOperationException>(() =>
                MailroomHost.StartAsync(tweak: s => s with { DataDirectory = host.DataDirectory, Database = host.Settings.Database }));
            Assert.Contains("newer Mailroom", e.Message);
            Assert.Contains("29991231000000_FromTheFuture", e.Message);
        }
        finally
        {
            await host.DisposeAsync();
        }
    }
}
