using Mailroom.Core;
using Mailroom.Web;

namespace Mailroom.Tests.Web;

/// <summary>The list pages' paging (activity, inbound, the customer view): offsets, links and refusals.</summary>
public sealed class ListPageTests
{
    private static Func<Paging, Task<(IReadOnlyList<int> Rows, int Total)>> Rows(int total) => paging =>
        Task.FromResult(((IReadOnlyList<int>)Enumerable.Range(paging.Offset, Math.Max(0, Math.Min(paging.Count, total - paging.Offset))).ToList(), total));

    [Fact]
    public async Task LinksKeepTheNonEmptyFiltersAndPointToTheNeighbouringPages()
    {
        var page = await ListPage<int>.LoadAsync(50, Rows(120), "/app/servers/7/activity", [("stream", "outbound"), ("tag", ""), ("subject", null), ("recipient", "a b@x.test")]);

        Assert.Equal(50, page.Offset);
        Assert.Equal(50, page.Count);
        Assert.Equal(120, page.Total);
        Assert.Equal("/app/servers/7/activity?stream=outbound&recipient=a%20b@x.test&offset=0", page.NewerLink);
        Assert.Equal("/app/servers/7/activity?stream=outbound&recipient=a%20b@x.test&offset=100", page.OlderLink);
    }

    [Fact]
    public async Task TheFirstPageHasNoNewerLinkAndTheLastNoOlderLink()
    {
        var first = await ListPage<int>.LoadAsync(0, Rows(30), "/p", []);
        Assert.Null(first.NewerLink);
        Assert.Null(first.OlderLink);
        Assert.Equal(30, first.Count);

        var negative = await ListPage<int>.LoadAsync(-5, Rows(30), "/p", []);
        Assert.Equal(0, negative.Offset);
    }

    [Fact]
    public async Task TheOffsetStaysWithinWhatTheApiPagesToAndABigTotalIsCapped()
    {
        var page = await ListPage<int>.LoadAsync(20_000, Rows(50_000), "/p", [], "more than 10,000");

        Assert.Equal(ListPage<int>.MaxOffset, page.Offset);
        Assert.True(page.TotalIsCapped);
        Assert.Equal("more than 10,000", page.TotalText);
        Assert.Null(page.OlderLink);
        Assert.Equal("/p?offset=" + (ListPage<int>.MaxOffset - ListPage<int>.Size), page.NewerLink);

        var uncapped = await ListPage<int>.LoadAsync(0, Rows(12_345), "/p", []);
        Assert.Equal(12_345.ToString(System.Globalization.CultureInfo.CurrentCulture), uncapped.TotalText);
    }

    [Fact]
    public async Task ASearchRefusalBecomesThePageErrorWithNoRows()
    {
        var page = await ListPage<int>.LoadAsync(0, _ => throw new MailroomException(PostmarkErrors.InvalidMessagesQuery, "The 'fromdate' parameter is not a date: 'x'."), "/p", []);

        Assert.Equal("The 'fromdate' parameter is not a date: 'x'.", page.Error);
        Assert.Empty(page.Rows);
        Assert.Equal(0, page.Total);
        Assert.Null(page.OlderLink);
    }
}
