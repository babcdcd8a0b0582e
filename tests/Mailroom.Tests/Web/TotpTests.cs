using Mailroom.Core.Accounts;
using Mailroom.Web;

namespace Mailroom.Tests.Web;

/// <summary>TOTP (RFC 6238) codes, the ±1 step window, replay refusal, recovery codes and the sign-in ticket.</summary>
public sealed class TotpTests
{
    private static readonly byte[] RfcKey = Encoding.ASCII.GetBytes("12345678901234567890"); // RFC 6238 Appendix B, SHA1 seed

    [Theory]
    [InlineData(59L, "94287082")]
    [InlineData(1111111109L, "07081804")]
    [InlineData(1111111111L, "14050471")]
    [InlineData(1234567890L, "89005924")]
    [InlineData(2000000000L, "69279037")]
    [InlineData(20000000000L, "65353130")]
    public void CodesMatchTheRfc6238AppendixBVectors(long unixSeconds, string expected)
    {
        var step = Totp.StepAt(DateTimeOffset.FromUnixTimeSeconds(unixSeconds));
        Assert.Equal(expected, Totp.Code(RfcKey, step, digits: 8));
        Assert.Equal(expected[2..], Totp.Code(RfcKey, step)); // six digits: the same number modulo 10^6
    }

    [Fact]
    public void AcceptsTheCodesOfOneStepEitherSideAndNoFurther()
    {
        var now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_015);
        var step = Totp.StepAt(now);
        Assert.Equal(step, Totp.Match(RfcKey, Totp.Code(RfcKey, step), now, 0));
        Assert.Equal(step - 1, Totp.Match(RfcKey, Totp.Code(RfcKey, step - 1), now, 0));
        Assert.Equal(step + 1, Totp.Match(RfcKey, Totp.Code(RfcKey, step + 1), now, 0));
        Assert.Null(Totp.Match(RfcKey, Totp.Code(RfcKey, step - 2), now, 0));
        Assert.Null(Totp.Match(RfcKey, Totp.Code(RfcKey, step + 2), now, 0));
        Assert.Null(Totp.Match(RfcKey, "12345", now, 0));
        Assert.Null(Totp.Match(RfcKey, "abcdef", now, 0));
        Assert.Null(Totp.Match(RfcKey, null, now, 0));
    }

    [Fact]
    public void ACodeOfAStepAlreadyUsedIsRefused()
    {
        var now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_015);
        var step = Totp.StepAt(now);
        Assert.Null(Totp.Match(RfcKey, Totp.Code(RfcKey, step), now, lastUsedStep: step));
        Assert.Null(Totp.Match(RfcKey, Totp.Code(RfcKey, step - 1), now, lastUsedStep: step));
        Assert.Equal(step + 1, Totp.Match(RfcKey, Totp.Code(RfcKey, step + 1), now, lastUsedStep: step));
    }

    [Fact]
    public void Base32RoundTripsAndTheKeyUriNamesTheKey()
    {
        Assert.Equal("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", Base32.Encode(RfcKey)); // RFC 4648 §6 alphabet
        Assert.Equal(RfcKey, Base32.Decode("gezdgnbvgy3tqojq gezdgnbvgy3tqojq"));
        Assert.Null(Base32.Decode("not base32!"));
        var uri = Totp.KeyUri("Mailroom", "sam@acme.test", RfcKey);
        Assert.StartsWith("otpauth://totp/Mailroom:sam%40acme.test?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Mailroom", uri);
    }

    [Fact]
    public async Task SetupNeedsAConfirmingCodeThenCodesWorkOnceAndRecoveryCodesOnce()
    {
        await using var host = await MailroomHost.StartAsync();
        await using var scope = host.App.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<WebUserService>();
        var twoFactor = scope.ServiceProvider.GetRequiredService<TwoFactorService>();
        var created = await NewUserWithPasswordAsync(host, users, "sam@acme.test", WebRole.Owner);

        var setup = await twoFactor.BeginAsync(created.UserId);
        Assert.StartsWith("data:image/png;base64,", setup.QrCodeDataUri);
        var key = Base32.Decode(setup.Secret)!;
        string CodeNow() => Totp.Code(key, Totp.StepAt(host.Clock.GetUtcNow()));

        // At rest: encrypted, not the key in any form the page shows.
        var stored = await Db(scope).WebUsers.AsNoTracking().SingleAsync(u => u.Id == created.UserId);
        Assert.DoesNotContain(setup.Secret, stored.TotpSecret);
        Assert.DoesNotContain(Convert.ToBase64String(key), stored.TotpSecret);
        // Not on before a code confirms it.
        Assert.False(TwoFactorService.IsEnabled(stored));
        Assert.False(await twoFactor.VerifyAsync(created.UserId, CodeNow()));
        await Assert.ThrowsAsync<Mailroom.Core.MailroomException>(() => twoFactor.ConfirmAsync(created.UserId, "000000"));

        var recovery = await twoFactor.ConfirmAsync(created.UserId, CodeNow());
        Assert.Equal(TwoFactorService.RecoveryCodeCount, recovery.Count);
        // The confirming code is spent: the same code does not sign in within its window.
        Assert.False(await twoFactor.VerifyAsync(created.UserId, CodeNow()));
        host.Clock.Advance(TimeSpan.FromSeconds(Totp.StepSeconds));
        Assert.True(await twoFactor.VerifyAsync(created.UserId, CodeNow()));
        Assert.False(await twoFactor.VerifyAsync(created.UserId, CodeNow())); // replay

        // Recovery codes: hashed at rest, each good once.
        stored = await Db(scope).WebUsers.AsNoTracking().SingleAsync(u => u.Id == created.UserId);
        Assert.DoesNotContain(recovery[0], stored.RecoveryCodeHashes);
        Assert.True(await twoFactor.VerifyAsync(created.UserId, recovery[0].ToUpperInvariant()));
        Assert.False(await twoFactor.VerifyAsync(created.UserId, recovery[0]));
        stored = await Db(scope).WebUsers.AsNoTracking().SingleAsync(u => u.Id == created.UserId);
        Assert.Equal(TwoFactorService.RecoveryCodeCount - 1, TwoFactorService.RecoveryCodesLeft(stored));

        // Turning it off needs the password and a code.
        host.Clock.Advance(TimeSpan.FromSeconds(Totp.StepSeconds));
        await Assert.ThrowsAsync<Mailroom.Core.MailroomException>(() => twoFactor.DisableAsync(created.UserId, "a wrong password!!", CodeNow()));
        await Assert.ThrowsAsync<Mailroom.Core.MailroomException>(() => twoFactor.DisableAsync(created.UserId, "a long enough password", "000000"));
        await twoFactor.DisableAsync(created.UserId, "a long enough password", CodeNow());
        stored = await Db(scope).WebUsers.AsNoTracking().SingleAsync(u => u.Id == created.UserId);
        Assert.False(TwoFactorService.IsEnabled(stored));
        Assert.Null(stored.TotpSecret);
    }

    [Fact]
    public async Task TheSignInTicketExpiresAndDiesWithTheSecurityStampOrAnyChange()
    {
        await using var host = await MailroomHost.StartAsync();
        await using var scope = host.App.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<WebUserService>();
        var twoFactor = scope.ServiceProvider.GetRequiredService<TwoFactorService>();
        var created = await NewUserWithPasswordAsync(host, users, "kim@acme.test", WebRole.Admin);
        var key = Base32.Decode((await twoFactor.BeginAsync(created.UserId)).Secret)!;
        await twoFactor.ConfirmAsync(created.UserId, Totp.Code(key, Totp.StepAt(host.Clock.GetUtcNow())));
        var user = await Db(scope).WebUsers.AsNoTracking().SingleAsync(u => u.Id == created.UserId);

        var ticket = twoFactor.Ticket(user);
        Assert.Equal(user.Id, (await twoFactor.ReadTicketAsync(ticket))?.Id);
        Assert.Null(await twoFactor.ReadTicketAsync(ticket[..^2] + (ticket[^2] == 'A' ? "B" : "A") + ticket[^1]));
        host.Clock.Advance(TwoFactorService.TicketLifetime + TimeSpan.FromSeconds(1));
        Assert.Null(await twoFactor.ReadTicketAsync(ticket));

        var fresh = twoFactor.Ticket(user);
        await users.RotateStampAsync(user.Id);
        Assert.Null(await twoFactor.ReadTicketAsync(fresh));
    }

    /// <summary>A web user of a new account, its password set through its set-password link.</summary>
    private static async Task<WebUserCreated> NewUserWithPasswordAsync(MailroomHost host, WebUserService users, string email, WebRole role)
    {
        var account = await host.CreateAccountAsync();
        var created = await users.CreateAsync(account.AccountID, email, role, []);
        await users.SetPasswordAsync(new Uri(created.SetPasswordLink).Query.Split("token=")[1], "a long enough password");
        return created;
    }

    private static Mailroom.Core.Storage.MailroomDb Db(AsyncServiceScope scope) => scope.ServiceProvider.GetRequiredService<Mailroom.Core.Storage.MailroomDb>();
}
