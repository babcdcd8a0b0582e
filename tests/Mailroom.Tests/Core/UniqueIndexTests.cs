using Mailroom.Core.Accounts;
using Mailroom.Core.Storage;
using Microsoft.EntityFrameworkCore;

namespace Mailroom.Tests.Core;

/// <summary>
/// Only a unique-index violation becomes a service's "already exists" answer (on SQLite and on PostgreSQL: the run's
/// store); any other failed save (here a foreign key naming no server) stays an error, not a false duplicate.
/// </summary>
public sealed class UniqueIndexTests : HostTests
{
    [Fact]
    public async Task ASecondRowOnAUniqueIndexGetsTheDuplicateAnswer()
    {
        var t = await Host.CreateTenantAsync();
        var thrown = await Host.ScopedAsync(async sp =>
        {
            var db = sp.GetRequiredService<MailroomDb>();
            db.MessageStreams.Add(Stream(t.Server.ID, "outbound"));
            return await Record.ExceptionAsync(() => db.SaveUniqueAsync(() => new InvalidOperationException("duplicate"), CancellationToken.None));
        });
        Assert.Equal("duplicate", Assert.IsType<InvalidOperationException>(thrown).Message);
    }

    [Fact]
    public async Task AnotherFailedSaveIsNotReportedAsADuplicate()
    {
        var thrown = await Host.ScopedAsync(async sp =>
        {
            var db = sp.GetRequiredService<MailroomDb>();
            db.MessageStreams.Add(Stream(int.MaxValue, "orphan"));
            return await Record.ExceptionAsync(() => db.SaveUniqueAsync(() => new InvalidOperationException("duplicate"), CancellationToken.None));
        });
        var failure = Assert.IsType<DbUpdateException>(thrown);
        Assert.False(UniqueIndex.IsViolation(failure));
    }

    private static MessageStream Stream(int serverId, string id) =>
        new() { ServerId = serverId, StreamId = id, Name = id, Type = MessageStreamType.Transactional, CreatedAt = DateTime.UtcNow };
}
