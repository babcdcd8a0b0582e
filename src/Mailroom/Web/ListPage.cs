using System.Globalization;
using Microsoft.AspNetCore.Http.Extensions;

namespace Mailroom.Web;

/// <summary>What the pager partial (<c>Pages/Shared/_Pager.cshtml</c>) shows of a <see cref="ListPage{T}"/>.</summary>
public interface IListPager
{
    int Offset { get; }
    int Count { get; }
    int Total { get; }
    /// <summary>The "of N" text: the total, or the capped wording when the count stopped at the API's paging limit.</summary>
    string TotalText { get; }
    string? NewerLink { get; }
    string? OlderLink { get; }
}

/// <summary>
/// One page of a list page's search (activity, inbound, the customer view): a page of rows at an offset, the search's
/// refusal (e.g. a date that is not one) shown on the page instead of an error page, and links to the pages around it
/// that keep the search's filters. The Messages APIs page only within their first 10,000 rows (count + offset), so the
/// offset is held below that and a list that reaches it is capped: narrow the search to go further back.
/// </summary>
public sealed class ListPage<T> : IListPager
{
    public const int Size = 50;
    /// <summary>The Messages API's own limit on count + offset (10,000) less a page.</summary>
    public const int MaxOffset = 10_000 - Size;
    /// <summary>Counting one row past what can be paged to is enough to say "more than 10,000".</summary>
    public const int CountLimit = MaxOffset + Size + 1;

    private readonly Func<int, string> link;
    private readonly string? cappedText;

    private ListPage(int offset, Func<int, string> link, string? cappedText)
    {
        Offset = offset;
        this.link = link;
        this.cappedText = cappedText;
    }

    public int Offset { get; }
    public IReadOnlyList<T> Rows { get; private set; } = [];
    public int Count => Rows.Count;
    public int Total { get; private set; }
    public string? Error { get; private set; }
    public bool TotalIsCapped => Total > MaxOffset + Size;
    public string TotalText => cappedText is not null && TotalIsCapped ? cappedText : Total.ToString(CultureInfo.CurrentCulture);
    public string? NewerLink => Offset > 0 ? link(Math.Max(0, Offset - Size)) : null;
    public string? OlderLink => Offset + Size < Total && Offset < MaxOffset ? link(Offset + Size) : null;

    /// <summary>An empty page, before the search runs.</summary>
    public static ListPage<T> Empty { get; } = new(0, _ => "", null);

    /// <summary>
    /// Runs <paramref name="search"/> for the page at <paramref name="offset"/> (clamped to what can be paged to). A
    /// <see cref="MailroomException"/> (bad input the API would answer 422 to) becomes the page's <see cref="Error"/>.
    /// Links are <paramref name="path"/> with the non-empty <paramref name="filters"/> and the other page's offset.
    /// </summary>
    public static async Task<ListPage<T>> LoadAsync(int offset, Func<Paging, Task<(IReadOnlyList<T> Rows, int Total)>> search,
        string path, IEnumerable<(string Key, string? Value)> filters, string? cappedText = null)
    {
        var kept = filters.Where(f => !string.IsNullOrEmpty(f.Value)).ToList();
        var page = new ListPage<T>(Math.Clamp(offset, 0, MaxOffset), o => Link(path, kept, o), cappedText);
        try
        {
            (page.Rows, page.Total) = await search(new Paging(Size, page.Offset));
        }
        catch (MailroomException e)
        {
            page.Error = e.Message;
        }
        return page;
    }

    private static string Link(string path, List<(string Key, string? Value)> filters, int offset)
    {
        var q = new QueryBuilder();
        foreach (var (k, v) in filters)
            q.Add(k, v!);
        q.Add("offset", offset.ToString(CultureInfo.InvariantCulture));
        return path + q;
    }
}
