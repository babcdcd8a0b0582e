using System.Globalization;
using System.Text;
using System.Text.Json;
using Mailroom.Contracts;
using Mailroom.Core.Storage;
using Microsoft.EntityFrameworkCore;

namespace Mailroom.Core.Queue;

public sealed record MessageSearch(Paging Paging, string? Recipient, string? FromEmail, string? Tag, string? Status,
    DateTimeOffset? FromDate, DateTimeOffset? ToDate, string? Subject, string Stream, (string Key, string Value)? Metadata)
{
    /// <summary>Count at most this many matches (the web app's pages end at 10,000 anyway): counting a million-message
    /// server's rows cost more than the page itself. Null: the exact total, as the Messages API answers.</summary>
    public int? CountLimit { get; init; }
}

/// <summary>The message activity log (Messages API, spec §8): every query is scoped by server.</summary>
public sealed class MessageLog(MailroomDb db)
{
    /// <summary>
    /// The Messages API counts at most this many matches: it is the paging window (count + offset ≤ 10,000, spec §1.6),
    /// so every message a client can reach is counted exactly, and a store of a million messages is not counted per
    /// request. A larger result answers <c>TotalCount</c> 10,000 ("the whole window").
    /// </summary>
    public const int ApiCountLimit = 10_000;

    /// <summary>Terms shorter than a trigram cannot use the trigram indexes (every row would be a candidate).</summary>
    private const int TrigramLength = 3;

    /// <summary>
    /// The newest-first walk (<see cref="WalkAsync"/>) reads at most this many rows per message the page needs
    /// (offset + count), within [<see cref="MinWalkRows"/>, <see cref="MaxWalkRows"/>]: a filter matching one
    /// message in 40 or more often (one sender of 20, status=sent) finds its page there.
    /// </summary>
    internal const int WalkRowsPerMatch = 40;
    internal const int MinWalkRows = 2_000;
    internal const int MaxWalkRows = 20_000;

    public async Task<OutboundMessageList> SearchAsync(int serverId, MessageSearch s, CancellationToken ct)
    {
        // Validate before any query (an unknown status is the client's error, whichever path answers).
        _ = StatusFilter(db.OutboundMessages, s.Status);
        // A sender term is matched against the stream's few distinct senders first (index seeks only); the rows are
        // then found by exact From values through the sender index instead of the trigram index.
        var senders = s.FromEmail is { } fromTerm ? await SendersMatchingAsync(serverId, s.Stream, fromTerm, ct) : null;
        if (senders is { Values.Count: 0 })
            return new OutboundMessageList(0, []);
        var candidates = senders is { Values: var values } ? Candidates(s with { FromEmail = null }).Where(m => values.Contains(m.From)) : Candidates(s);
        // Senders decided exactly in memory need no per-row test of the term (a third of the count's cost on PostgreSQL).
        var exact = senders is { Exact: true } ? s with { FromEmail = null } : s;
        var indexed = Filter(InScope(candidates.AsNoTracking(), serverId, s), exact);
        var total = s.CountLimit is { } limit ? await indexed.Take(limit).CountAsync(ct) : await indexed.CountAsync(ct);
        if (total <= s.Paging.Offset)
            return new OutboundMessageList(total, []);
        // A filter that no index serves in ReceivedAt order (substrings, status, metadata) and that matches many rows is
        // first tried on the newest rows; only when they hold fewer matches than the page needs does the page come from
        // the index lookup, which reads and sorts every match (a frequent sender's 50,000 of a million for a page of
        // 50). The count is the estimate: a filter with fewer matches than half the walk's row budget costs the index
        // lookup less than the walk would (a full address: a few rows).
        var page = (NeedsWalk(s) && total >= WalkBudget(s.Paging) / 2 ? await WalkAsync(serverId, s, ct) : null)
            ?? (s.Status is null ? await Page(indexed, s.Paging).ToListAsync(ct) : await StatusPageAsync(Filter(InScope(candidates.AsNoTracking(), serverId, s), exact with { Status = null }), s, ct));
        return new OutboundMessageList(total, page.Select(ToResponse).ToList());
    }

    /// <summary>
    /// A status search's page from the status index <c>(ServerId, Stream, Status, ReceivedAt)</c>: one query per stored
    /// status the name covers (<c>sent</c> is Sent or Processed), each read newest first straight from the index with
    /// <c>LIMIT offset + count</c>, then merged in the order the database gives (ReceivedAt descending, ties by the id's
    /// text). A condition on two status values would make the database read and sort every match instead (1.5 s for
    /// <c>status=sent</c> on a million-message store whose newest rows are still queued).
    /// </summary>
    private static async Task<List<Row>> StatusPageAsync(IQueryable<OutboundMessage> others, MessageSearch s, CancellationToken ct)
    {
        var first = new Paging(s.Paging.Offset + s.Paging.Count, 0);
        var rows = new List<Row>();
        foreach (var status in StatusValues(s.Status!))
        {
            // First the ReceivedAt of the status's first offset + count messages (index only), then those rows within
            // that ReceivedAt range. Asked for the rows at once, PostgreSQL walked (ReceivedAt) backwards testing each
            // row's status (its statistics say most rows are sent, not that the newest 100,000 are queued): 330 ms.
            // A range bounded on both sides by the keys is narrow in either index, whichever the planner picks.
            var inStatus = others.Where(m => m.Status == status);
            var keys = await inStatus.OrderByDescending(m => m.ReceivedAt).Select(m => m.ReceivedAt).Take(first.Count).ToListAsync(ct);
            if (keys.Count == 0)
                continue;
            var (newest, edge) = (keys[0], keys[^1]);
            rows.AddRange(await Page(inStatus.Where(m => m.ReceivedAt >= edge && m.ReceivedAt <= newest), first).ToListAsync(ct));
        }
        return rows.OrderByDescending(r => r.ReceivedAt).ThenBy(r => r.Id.ToString("D").ToUpperInvariant(), StringComparer.Ordinal)
            .Skip(s.Paging.Offset).Take(s.Paging.Count).ToList();
    }

    private static MessageStatus[] StatusValues(string status) => status.ToLowerInvariant() switch
    {
        "queued" => [MessageStatus.Queued],
        "sent" or "processed" => [MessageStatus.Sent, MessageStatus.Processed],
        "failed" => [MessageStatus.Failed],
        _ => throw new MailroomException(PostmarkErrors.InvalidMessagesQuery, $"Invalid 'status': '{status}'. Use queued, sent, processed or failed."),
    };

    /// <summary>A status alone needs no walk: its page comes newest first from the status index (StatusPageAsync).</summary>
    private static bool NeedsWalk(MessageSearch s) =>
        s.Recipient is not null || s.FromEmail is not null || s.Subject is not null || s.Metadata is not null;

    /// <summary>
    /// The page from the newest rows of the server's stream alone: the <c>ReceivedAt</c> of the B-th newest row
    /// (an index-only read of <c>(ServerId, Stream, ReceivedAt)</c>, B the row budget) bounds a window that the exact
    /// filter is tested on, walking that index backwards. Every row outside the window is older than every row inside,
    /// so when the window holds the page's offset + count matches, they are the first ones of the whole search; when it
    /// holds fewer, null (the caller asks the indexes). A stream smaller than B is read whole: its answer is exact.
    /// </summary>
    private async Task<List<Row>?> WalkAsync(int serverId, MessageSearch s, CancellationToken ct)
    {
        var scope = InScope(db.OutboundMessages.AsNoTracking(), serverId, s);
        var budget = WalkBudget(s.Paging);
        var edge = await scope.OrderByDescending(m => m.ReceivedAt).Select(m => m.ReceivedAt).Skip(budget - 1).Take(1).ToListAsync(ct);
        var window = edge.Count == 0 ? scope : scope.Where(m => m.ReceivedAt >= edge[0]);
        var rows = await Page(Filter(window, s), s.Paging).ToListAsync(ct);
        return rows.Count == s.Paging.Count || edge.Count == 0 ? rows : null;
    }

    /// <summary>
    /// The distinct senders (<c>From</c> values) of the server's stream that may match a <c>fromemail</c> term, or null
    /// when the stream has more than <see cref="MaxDistinctSenders"/> of them. A server sends from a few addresses in
    /// practice (its sender signatures, a verified domain's senders), while one sender may have sent most of its
    /// million messages: counting a frequent sender's matches through the trigram index cost a row lookup per match
    /// (271 ms p99 on SQLite, 417 ms on PostgreSQL, for one sender of 20 on a million-message store). Here the sender
    /// index <c>(ServerId, Stream, From, ReceivedAt)</c> is read as a skip scan, one seek per distinct value (a recursive
    /// query: neither SQLite nor PostgreSQL skips through an index on its own), and the term is tested in memory. The
    /// test is exact for ASCII (SQLite's lower() folds ASCII only, as <see cref="string.ToLowerInvariant"/> does there);
    /// a value or term outside ASCII is kept as a candidate (<c>Exact</c> false), and the row predicate then decides.
    /// </summary>
    private async Task<(List<string> Values, bool Exact)?> SendersMatchingAsync(int serverId, string stream, string term, CancellationToken ct)
    {
        const string sql = """
            WITH RECURSIVE senders(f, n) AS (
              SELECT (SELECT "From" FROM outbound_messages WHERE "ServerId" = {0} AND "Stream" = {1} ORDER BY "From" LIMIT 1), 1
              UNION ALL
              SELECT (SELECT "From" FROM outbound_messages WHERE "ServerId" = {0} AND "Stream" = {1} AND "From" > senders.f ORDER BY "From" LIMIT 1), senders.n + 1
              FROM senders WHERE senders.f IS NOT NULL AND senders.n <= {2}
            )
            SELECT f AS "Value" FROM senders WHERE f IS NOT NULL
            """;
        var all = await db.Database.SqlQueryRaw<string>(sql, serverId, stream, MaxDistinctSenders).ToListAsync(ct);
        if (all.Count > MaxDistinctSenders)
            return null;
        if (!term.All(char.IsAscii))
            return (all, false);
        var lower = term.ToLowerInvariant();
        var values = all.Where(f => !f.All(char.IsAscii) || f.ToLowerInvariant().Contains(lower, StringComparison.Ordinal)).ToList();
        return (values, values.All(f => f.All(char.IsAscii)));
    }

    /// <summary>At most this many distinct senders per server and stream are read for a <c>fromemail</c> search (one
    /// index seek each); a stream with more falls back to the trigram index.</summary>
    internal const int MaxDistinctSenders = 200;

    private static int WalkBudget(Paging paging) =>
        (int)Math.Clamp((long)(paging.Offset + paging.Count) * WalkRowsPerMatch, MinWalkRows, MaxWalkRows);

    /// <summary>The server's stream within the date bounds (spec §8.1 fromdate/todate, inclusive).</summary>
    private static IQueryable<OutboundMessage> InScope(IQueryable<OutboundMessage> q, int serverId, MessageSearch s)
    {
        q = q.Where(m => m.ServerId == serverId && m.Stream == s.Stream);
        if (s.FromDate is { } fd)
        {
            var ms = fd.ToUnixTimeMilliseconds();
            q = q.Where(m => m.ReceivedAt >= ms);
        }
        if (s.ToDate is { } td)
        {
            var ms = td.ToUnixTimeMilliseconds();
            q = q.Where(m => m.ReceivedAt <= ms);
        }
        return q;
    }

    /// <summary>The exact filters of the search (spec §8.1); the substring ones are case-insensitive, as the Activity
    /// page defines them. Whatever index narrows the rows first, this decides.</summary>
    private static IQueryable<OutboundMessage> Filter(IQueryable<OutboundMessage> q, MessageSearch s)
    {
        if (s.Recipient is { } rcpt)
            q = q.Where(m => m.RecipientsJson.ToLower().Contains(rcpt.ToLower()));
        if (s.FromEmail is { } from)
            q = q.Where(m => m.From.ToLower().Contains(from.ToLower()));
        if (s.Tag is { } tag)
            q = q.Where(m => m.Tag == tag);
        if (s.Subject is { } subject)
            q = q.Where(m => m.Subject.ToLower().Contains(subject.ToLower()));
        q = StatusFilter(q, s.Status);
        if (s.Metadata is { } md)
        {
            // Metadata is stored as a JSON object; match the exact "key":"value" pair.
            var pair = JsonSerializer.Serialize(new Dictionary<string, string> { [md.Key] = md.Value })[1..^1];
            q = q.Where(m => m.MetadataJson.Contains(pair));
        }
        return q;
    }

    private static IQueryable<OutboundMessage> StatusFilter(IQueryable<OutboundMessage> q, string? status)
    {
        if (status is null)
            return q;
        // IN, not OR: PostgreSQL seeks the status index for each value of an IN list; an OR of the two values it reads
        // as a filter on every entry of the server's stream (41 ms to count 10,000 sent behind 100,000 queued, 3 ms as IN).
        var values = StatusValues(status);
        var one = values[0];
        return values.Length == 1 ? q.Where(m => m.Status == one) : q.Where(m => values.Contains(m.Status));
    }

    /// <summary>Newest first (ties by id, so pages never overlap), one page, the columns the answer shows.</summary>
    private static IQueryable<Row> Page(IQueryable<OutboundMessage> q, Paging paging) =>
        q.OrderByDescending(m => m.ReceivedAt).ThenBy(m => m.Id)
            .Skip(paging.Offset).Take(paging.Count)
            .Select(m => new Row(m.Id, m.Tag, m.ToJson, m.CcJson, m.BccJson, m.RecipientsJson, m.ReceivedAt, m.From, m.Subject,
                m.AttachmentNamesJson, m.Status, m.TrackOpens, m.TrackLinks, m.MetadataJson, m.Stream, m.Sandboxed));

    /// <summary>
    /// The rows a substring search can match, narrowed by the trigram indexes of migration <c>MessageSearchIndexes</c>:
    /// on SQLite the FTS5 table <c>outbound_message_search</c> (tokenizer trigram, external content, kept behind a
    /// cursor by <see cref="MessageSearchIndex"/>; the rows above the cursor are added unfiltered), whose LIKE is answered from the index; on PostgreSQL ILIKE, served by pg_trgm GIN indexes. Both
    /// return a superset of the exact matches (a <c>%</c> or <c>_</c> in the term is a wildcard here), which the
    /// caller's exact predicate then tests.
    /// </summary>
    private IQueryable<OutboundMessage> Candidates(MessageSearch s)
    {
        var terms = new List<(string Column, string Pattern)>();
        void Add(string column, string? term)
        {
            if (term is { Length: >= TrigramLength })
                terms.Add((column, "%" + term + "%"));
        }
        Add("RecipientsJson", s.Recipient);
        Add("From", s.FromEmail);
        Add("Subject", s.Subject);
        if (terms.Count == 0)
            return db.OutboundMessages;
        if (db.Database.IsNpgsql())
        {
            IQueryable<OutboundMessage> q = db.OutboundMessages;
            foreach (var (column, pattern) in terms)
            {
                // ILIKE '%t%' for a few rare trigrams t of the term, on the raw columns, so the GIN (column
                // gin_trgm_ops) indexes answer them reading only those trigrams' posting lists: ILIKE of the whole
                // term makes GIN read every trigram's list, and an address's domain trigrams are in every row. The
                // exact predicate (not indexable) then decides. The escape character is named: without one, Npgsql
                // sends ESCAPE '' and the escaped % and _ would be read as a backslash and a wildcard.
                // (A term outside ASCII keeps the whole-term ILIKE: case folding is then the database's alone.)
                var term = pattern[1..^1];
                foreach (var part in term.All(char.IsAscii) ? RareTrigrams(term) : [term])
                {
                    var p = "%" + part.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal)
                        .Replace("_", "\\_", StringComparison.Ordinal) + "%";
                    q = column switch
                    {
                        "RecipientsJson" => q.Where(m => EF.Functions.ILike(m.RecipientsJson, p, "\\")),
                        "From" => q.Where(m => EF.Functions.ILike(m.From, p, "\\")),
                        _ => q.Where(m => EF.Functions.ILike(m.Subject, p, "\\")),
                    };
                }
            }
            return q;
        }
        // SQLite: FTS5 (trigram tokenizer) MATCH on a few of the term's trigrams, all of which a match contains. Not
        // the whole term (LIKE '%term%'): FTS5 then reads the doclist of every trigram, and an address's domain
        // trigrams (@ex, exa, ... net) are in every row (70 ms of CPU per search on a million messages). The CROSS
        // JOIN keeps the FTS table as the outer loop (SQLite never reorders a CROSS JOIN): the matches drive the row
        // lookups. A term with a character outside ASCII keeps LIKE, which FTS5 also answers from the index.
        var clauses = new List<string>();
        var parameters = new List<object>();
        var likes = new List<string>();
        foreach (var (column, pattern) in terms)
        {
            var term = pattern[1..^1];
            if (term.All(char.IsAscii))
                clauses.Add($"{{{column}}}: ({string.Join(" AND ", RareTrigrams(term).Select(t => "\"" + t.Replace("\"", "\"\"", StringComparison.Ordinal) + "\""))})");
            else
                likes.Add(column);
        }
        var where = new List<string>();
        if (clauses.Count > 0)
        {
            where.Add($"outbound_message_search MATCH {{{parameters.Count}}}");
            parameters.Add(string.Join(" AND ", clauses));
        }
        foreach (var column in likes)
        {
            where.Add($"outbound_message_search.\"{column}\" LIKE {{{parameters.Count}}}");
            parameters.Add(terms.First(t => t.Column == column).Pattern);
        }
        // (No alias for the FTS table: MATCH's left operand must be the table's own name.) The index holds the rows up
        // to its cursor (MessageSearchIndex); the rows above it, not indexed yet (few: those added since the last group
        // commit by other writers), are all candidates, and the caller's exact predicate decides for them too.
        var sql = "SELECT m.* FROM outbound_message_search CROSS JOIN outbound_messages AS m ON m.rowid = outbound_message_search.rowid WHERE "
            + string.Join(" AND ", where) + " UNION ALL " + MessageSearchIndex.UnindexedRows;
        return db.OutboundMessages.FromSqlRaw(sql, parameters.ToArray());
    }

    /// <summary>
    /// Up to three trigrams of <paramref name="term"/> that few rows share, by a plain rule: digits are the rarest
    /// characters in addresses and subjects (numbers, ids), punctuation the most common (@ . and the JSON's quotes).
    /// Any subset of the term's trigrams is contained in every match, so the choice changes the cost, never the answer.
    /// </summary>
    internal static IReadOnlyList<string> RareTrigrams(string term)
    {
        static int Score(string t) => t.Sum(c => char.IsAsciiDigit(c) ? 4 : char.IsAsciiLetter(c) ? 1 : 0);
        return Enumerable.Range(0, term.Length - TrigramLength + 1)
            .Select(i => term.Substring(i, TrigramLength).ToLowerInvariant())
            .Distinct(StringComparer.Ordinal)
            .Select((t, i) => (Trigram: t, Score: Score(t), Position: i))
            .OrderByDescending(x => x.Score).ThenBy(x => x.Position)
            .Take(3).Select(x => x.Trigram).ToList();
    }

    public async Task<OutboundMessageDetails> DetailsAsync(int serverId, Guid id, CancellationToken ct)
    {
        var m = await db.OutboundMessages.AsNoTracking().Where(x => x.Id == id && x.ServerId == serverId)
            .Select(m => new { Row = new Row(m.Id, m.Tag, m.ToJson, m.CcJson, m.BccJson, m.RecipientsJson, m.ReceivedAt, m.From, m.Subject,
                m.AttachmentNamesJson, m.Status, m.TrackOpens, m.TrackLinks, m.MetadataJson, m.Stream, m.Sandboxed), m.Mime })
            .FirstOrDefaultAsync(ct) ?? throw NotFound(id);
        var events = await db.MessageEvents.AsNoTracking().Where(e => e.MessageId == id && e.ServerId == serverId)
            .OrderBy(e => e.At).ThenBy(e => e.Id).ToListAsync(ct);
        var template = await db.TemplateSends.AsNoTracking().FirstOrDefaultAsync(t => t.MessageId == id && t.ServerId == serverId, ct);
        var r = ToResponse(m.Row);
        var (text, html) = Bodies(m.Mime);
        return new OutboundMessageDetails(r)
        {
            TemplateId = template?.TemplateId,
            TemplateVersion = template?.TemplateVersion,
            TextBody = text,
            HtmlBody = html,
            Body = m.Mime is null ? "" : Encoding.UTF8.GetString(m.Mime),
            MessageEvents = events.Select(e => new MessageEventResponse(e.Recipient, e.Type.ToString(), Time(e.At),
                JsonSerializer.Deserialize<Dictionary<string, string>>(e.DetailsJson) ?? [])).ToList(),
        };
    }

    public async Task<MessageDump> DumpAsync(int serverId, Guid id, CancellationToken ct)
    {
        var m = await db.OutboundMessages.AsNoTracking().Where(x => x.Id == id && x.ServerId == serverId)
            .Select(m => new { m.Mime }).FirstOrDefaultAsync(ct) ?? throw NotFound(id);
        return new MessageDump(m.Mime is null ? "" : Encoding.UTF8.GetString(m.Mime));
    }

    public static Guid ParseId(string id) =>
        Guid.TryParse(id, out var g) ? g : throw new MailroomException(PostmarkErrors.MessageNotFound, $"Message '{id}' was not found.");

    /// <summary>Query dates (spec §1.5): <c>YYYY-MM-DD</c> or <c>YYYY-MM-DDTHH:MM:SS</c>, inclusive; an offset if given, else UTC.</summary>
    public static DateTimeOffset? ParseDate(string? value, string name, bool endOfDay)
    {
        if (value is null)
            return null;
        if (DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
            return new DateTimeOffset(day.ToDateTime(endOfDay ? new TimeOnly(23, 59, 59, 999) : TimeOnly.MinValue), TimeSpan.Zero);
        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t))
            return t;
        throw new MailroomException(PostmarkErrors.InvalidMessagesQuery, $"The '{name}' parameter is not a date: '{value}'.");
    }

    private static MailroomException NotFound(Guid id) => new(PostmarkErrors.MessageNotFound, $"Message '{id}' was not found.");

    private sealed record Row(Guid Id, string Tag, string To, string Cc, string Bcc, string Recipients, long ReceivedAt, string From,
        string Subject, string Attachments, MessageStatus Status, bool TrackOpens, string TrackLinks, string Metadata, string Stream, bool Sandboxed);

    private static OutboundMessageResponse ToResponse(Row m) => new()
    {
        MessageID = m.Id,
        Tag = m.Tag,
        To = JsonSerializer.Deserialize<List<EmailName>>(m.To) ?? [],
        Cc = JsonSerializer.Deserialize<List<EmailName>>(m.Cc) ?? [],
        Bcc = JsonSerializer.Deserialize<List<EmailName>>(m.Bcc) ?? [],
        Recipients = JsonSerializer.Deserialize<List<string>>(m.Recipients) ?? [],
        ReceivedAt = Time(m.ReceivedAt),
        From = m.From,
        Subject = m.Subject,
        Attachments = JsonSerializer.Deserialize<List<string>>(m.Attachments) ?? [],
        Status = m.Status.ToString(),
        TrackOpens = m.TrackOpens,
        TrackLinks = m.TrackLinks,
        Metadata = JsonSerializer.Deserialize<Dictionary<string, string>>(m.Metadata) ?? [],
        MessageStream = m.Stream,
        Sandboxed = m.Sandboxed,
    };

    private static DateTimeOffset Time(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    /// <summary>
    /// The text and HTML bodies the Messages API shows, read from the stored MIME (kept once: storing them beside it
    /// doubled what every accepted message wrote). Empty once the content is purged or when unreadable.
    /// </summary>
    private static (string Text, string Html) Bodies(byte[]? mime)
    {
        if (mime is null)
            return ("", "");
        try
        {
            var message = MimeKit.MimeMessage.Load(new MemoryStream(mime, writable: false));
            return (message.TextBody ?? "", message.HtmlBody ?? "");
        }
        catch (FormatException)
        {
            return ("", "");
        }
    }
}
