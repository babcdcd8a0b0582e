using Mailroom.Core.Preparation;

namespace Mailroom.Tests.Queue;

/// <summary>A message that Preparation could not sign or queue is shown as failed, with the reason in an event, not as
/// queued forever.</summary>
public sealed class PreparationFailureTests
{
    [Fact]
    public async Task AMessageWhosePreparationFailedShowsAsFailedWithTheReasonInAnEvent()
    {
        await using var host = await MailroomHost.StartAsync();
        var t = await host.CreateTenantAsync();
        var sent = await t.ServerApi.PostAsJsonAsync("/email", new { From = "app@mailroom.test", To = "jo@example.net", Subject = "Hi", TextBody = "Hi" }).OkJson();
        var id = Guid.Parse(sent.GetProperty("MessageID").GetString()!);
        // Its content gone before Preparation ran (as a damaged row would be): Preparation cannot sign it.
        await host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().OutboundMessages.Where(m => m.Id == id)
            .ExecuteUpdateAsync(u => u.SetProperty(m => m.Mime, (byte[]?)null)));
        await host.App.Services.GetRequiredService<MessagePreparer>().RunOnceAsync(CancellationToken.None);

        var details = await t.ServerApi.GetAsync($"/messages/outbound/{id}/details").OkJson();
        Assert.Equal("Failed", details.GetProperty("Status").GetString());
        var ev = Assert.Single(details.GetProperty("MessageEvents").EnumerateArray());
        Assert.Equal("Bounced", ev.GetProperty("Type").GetString());
        Assert.Contains("no content", ev.GetProperty("Details").GetProperty("Summary").GetString());

        var failed = await t.ServerApi.GetAsync("/messages/outbound?count=10&offset=0&status=failed").OkJson();
        Assert.Equal(id.ToString(), Assert.Single(failed.GetProperty("Messages").EnumerateArray()).GetProperty("MessageID").GetString());
        var queued = await t.ServerApi.GetAsync("/messages/outbound?count=10&offset=0&status=queued").OkJson();
        Assert.Equal(0, queued.GetProperty("TotalCount").GetInt32());
    }
}
