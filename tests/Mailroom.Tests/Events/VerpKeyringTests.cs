using Mailroom.Core;
using Mailroom.Core.Events;
using Mailroom.Mail.Addresses;

namespace Mailroom.Tests.Events;

/// <summary>The platform's VERP key: made once, shared by every node through the database, kept encrypted.</summary>
public sealed class VerpKeyringTests : HostTests
{
    /// <summary>A keyring as another node would have: its own cache, the same database.</summary>
    private VerpKeyring NewNode() => new(Host.App.Services.GetRequiredService<IServiceScopeFactory>(),
        Host.App.Services.GetRequiredService<Secrets>(), TimeProvider.System);

    [Fact]
    public async Task NodesStartingAtOnceAgreeOnOneStoredKey()
    {
        var nodes = Enumerable.Range(0, 6).Select(_ => NewNode()).ToList();
        var signers = await Task.WhenAll(nodes.Select(n => n.SignerAsync(CancellationToken.None).AsTask()));
        var id = Guid.NewGuid();
        var addresses = signers.Select(s => s.Encode(id, 3, "pm-bounces.mailroom.test")).Distinct().ToList();
        Assert.Single(addresses);
        Assert.True(signers[0].TryDecodeVerified(addresses[0], out _));

        var rows = await Host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().PlatformSecrets.AsNoTracking().ToListAsync());
        var row = Assert.Single(rows);
        Assert.Equal(VerpKeyring.CurrentName, row.Name);
        // Encrypted with Data Protection: the stored text is not the key.
        var key = Convert.FromBase64String(Host.App.Services.GetRequiredService<Secrets>().UnprotectKey(row.ProtectedValue));
        Assert.Equal(32, key.Length);
        Assert.DoesNotContain(Convert.ToBase64String(key), row.ProtectedValue);
        Assert.Equal(addresses[0], new VerpSigner(key).Encode(id, 3, "pm-bounces.mailroom.test"));
    }

    [Fact]
    public async Task AKeptPreviousKeyStillVerifiesAddressesItSigned()
    {
        var previous = Enumerable.Range(7, 32).Select(i => (byte)i).ToArray();
        await Host.ScopedAsync(async sp =>
        {
            var db = sp.GetRequiredService<MailroomDb>();
            db.PlatformSecrets.Add(new PlatformSecret
            {
                Name = VerpKeyring.PreviousName,
                ProtectedValue = sp.GetRequiredService<Secrets>().ProtectKey(Convert.ToBase64String(previous)),
                CreatedAt = DateTime.UtcNow,
            });
            return await db.SaveChangesAsync();
        });
        var signer = await NewNode().SignerAsync(CancellationToken.None);
        var old = new VerpSigner(previous).Encode(Guid.NewGuid(), 0, "pm-bounces.mailroom.test");
        Assert.True(signer.TryDecodeVerified(old, out _));
        Assert.NotEqual(old, signer.Encode(Verp.TryDecode(old, out var v) ? v.MessageId : default, 0, "pm-bounces.mailroom.test"));
        Assert.False(new VerpSigner(Enumerable.Range(50, 32).Select(i => (byte)i).ToArray()).TryDecodeVerified(signer.Encode(v.MessageId, 0, "pm-bounces.mailroom.test"), out _));
    }
}
