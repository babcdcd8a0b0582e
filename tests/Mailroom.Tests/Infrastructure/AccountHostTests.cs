namespace Mailroom.Tests.Infrastructure;

/// <summary>
/// Test classes of the account-level APIs: each test's host (<see cref="HostTests"/>) comes with the account API client
/// of a new account named <paramref name="accountName"/>.
/// </summary>
public abstract class AccountHostTests(string accountName = "Acme") : HostTests
{
    protected HttpClient AccountApi { get; private set; } = null!;

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        AccountApi = await Host.NewAccountClientAsync(accountName);
    }
}
