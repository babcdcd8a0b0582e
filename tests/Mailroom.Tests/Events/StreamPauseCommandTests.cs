using Mailroom.Contracts;

namespace Mailroom.Tests.Events;

/// <summary><c>mailroom streams pause|resume</c> on the store of a running <c>mailroom serve</c>.</summary>
public sealed class StreamPauseCommandTests
{
    [Fact]
    public async Task TheCommandPausesAndResumesAStream()
    {
        await using var server = await MailroomProcess.StartAsync(["--roles", "api"]);
        var srv = await server.NewServerAsync("Pause", new { Name = "Paused" });
        using var api = server.ServerApi(srv.ApiTokens[0]);

        var paused = await server.CommandAsync("streams", "pause", "--server", srv.ID.ToString(), "--stream", "outbound", "--reason", "List cleanup");
        Assert.True(paused.ExitCode == 0, paused.ToString());
        Assert.Contains("paused", paused.StandardOutput);
        var s = await api.GetAsync("/message-streams/outbound").OkJson();
        Assert.Equal("List cleanup", s.GetProperty("Paused").GetProperty("Reason").GetString());

        var resumed = await server.CommandAsync("streams", "resume", "--server", srv.ID.ToString(), "--stream", "outbound");
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Equal(JsonValueKind.Null, (await api.GetAsync("/message-streams/outbound").OkJson()).GetProperty("Paused").ValueKind);

        var missing = await server.CommandAsync("streams", "pause", "--server", srv.ID.ToString(), "--stream", "nope");
        Assert.Equal(2, missing.ExitCode);
    }
}
