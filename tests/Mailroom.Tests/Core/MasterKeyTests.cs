using System.Security.Cryptography;
using Mailroom.Contracts;

namespace Mailroom.Tests.Core;

/// <summary>The Data Protection key ring is encrypted with the master key; a store opened with another key refuses to start.</summary>
public sealed class MasterKeyTests
{
    [Fact]
    public async Task KeyRingFilesHoldNoPlaintextKeyAndTheMasterKeyFileIsPrivate()
    {
        await using var host = await MailroomHost.StartAsync();
        await host.CreateTenantAsync(); // a server token: Data Protection made and stored its key
        // SQLite: the key ring in the data folder; PostgreSQL: in the database, shared by every node.
        var keys = TestDatabase.IsPostgres
            ? await host.ScopedAsync(sp => sp.GetRequiredService<Mailroom.Core.Storage.MailroomDb>().DataProtectionKeys.Select(k => k.Xml!).ToArrayAsync())
            : await Task.WhenAll(Directory.GetFiles(Path.Combine(host.DataDirectory, "keys"), "key-*.xml").Select(f => File.ReadAllTextAsync(f)));
        Assert.NotEmpty(keys);
        if (TestDatabase.IsPostgres)
            Assert.False(Directory.Exists(Path.Combine(host.DataDirectory, "keys")), "on PostgreSQL no key is kept in the data folder");
        foreach (var xml in keys)
        {
            Assert.Contains("<encryptedKey", xml);
            Assert.DoesNotContain("<masterKey", xml); // Data Protection's element for the plaintext key material
        }
        var masterKeyFile = Path.Combine(host.DataDirectory, "master.key");
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(masterKeyFile));
        Assert.Equal(32, Convert.FromBase64String((await File.ReadAllTextAsync(masterKeyFile)).Trim()).Length);
    }

    [Fact]
    public async Task AStoreOpenedWithAnotherMasterKeyRefusesToStartAndSaysWhy()
    {
        var original = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        string data;
        string? database;
        string token;
        var first = await MailroomHost.StartAsync(tweak: s => s with { MasterKey = original });
        var tenant = await first.CreateTenantAsync();
        token = tenant.Server.ApiTokens[0];
        (data, database) = (first.DataDirectory, first.Settings.Database);
        // Stopped, not disposed: disposing deletes the data folder, which the next hosts open again.
        await first.App.StopAsync();
        await first.App.DisposeAsync();

        var other = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            MailroomHost.StartAsync(tweak: s => s with { DataDirectory = data, Database = database, MasterKey = other }));
        Assert.Contains("cannot be decrypted", refused.Message);
        Assert.Contains("MAILROOM_MASTER_KEY", refused.Message);

        // The right key opens it again, and the stored token still works.
        await using var again = await MailroomHost.StartAsync(tweak: s => s with { DataDirectory = data, Database = database, MasterKey = original });
        var server = await again.ServerClient(token).GetFromJsonAsync<ServerResponse>("/server");
        Assert.Equal(token, server!.ApiTokens[0]);
    }
}
