using Mailroom.Cli;

namespace Mailroom.Tests.Cli;

/// <summary><c>--roles</c> decides what a process serves; names that are not roles are refused at start.</summary>
public sealed class RolesTests
{
    [Theory]
    [InlineData("api,delivry")]
    [InlineData("web")]
    [InlineData(" , ")]
    public void UnknownRolesAreRefused(string roles)
    {
        var e = Assert.Throws<ArgumentException>(() =>
            MailroomSettings.Resolve(new Dictionary<string, string?> { ["Roles"] = roles }, null, _ => null));
        Assert.Contains("Roles", e.Message);
    }

    [Fact]
    public async Task ANodeWithoutTheApiRoleServesOnlyHealth()
    {
        await using var host = await MailroomHost.StartAsync(tweak: s => s with { Roles = "delivery" });
        var http = host.Client();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/servers")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.PostAsync("/email/batch", new StringContent("[]", System.Text.Encoding.UTF8, "application/json"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/server")).StatusCode);
    }
}
