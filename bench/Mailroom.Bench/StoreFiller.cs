using System.Data.Common;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;

namespace Mailroom.Bench;

/// <summary>
/// Fills a migrated Mailroom store (the database of a running or stopped <c>mailroom serve</c>) with N messages of
/// one server as the send path leaves them once delivered, spread evenly over <c>days</c> days back from now, oldest
/// first: per message its <c>outbound_messages</c> row (a ~0.8 KB stored MIME, 90 % stream <c>outbound</c>, 10 %
/// <c>broadcast</c>, 50 tags, 20 senders, 100,000 recipients), one <c>deliveries</c> row, one <c>message_events</c> row
/// (Delivered, or Bounced for 3 %), and for the bounced ones a <c>bounces</c> row and (hard bounces) a suppression.
/// Straight SQL on the real schema (SQLite: prepared statements, 20,000 messages a transaction; PostgreSQL: binary COPY),
/// not through the API, so a million messages take a couple of minutes rather than hours.
/// </summary>
public static class StoreFiller
{
    public const int Recipients = 100_000;
    public const int Tags = 50;
    public const int Senders = 20;
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>What the queries of the bench look for: ids of some messages (for details), the time span.</summary>
    public sealed record Filled(List<Guid> SampleIds, long OldestMs, long NewestMs, int Bounces, double Seconds);

    private readonly record struct Msg(Guid Id, int I, long At, string Stream, string From, string Subject, string Tag, string Email,
        bool Bounced, bool Hard);

    private static Msg Make(int i, int count, long now, long spanMs, Random random)
    {
        // Oldest first, evenly spread; a random offset inside each slot so times are not on a grid.
        var slot = spanMs / count;
        var at = now - spanMs + (long)i * slot + random.NextInt64(Math.Max(1, slot));
        var kind = random.Next(100);
        return new Msg(Guid.NewGuid(), i, at, i % 10 == 9 ? "broadcast" : "outbound", $"shop{i % Senders}@bench.test",
            $"Order {i} confirmed", $"t{i % Tags}", $"user{random.Next(Recipients)}@example.net", kind < 3, kind < 2);
    }

    private static byte[] Mime(in Msg m) => Encoding.UTF8.GetBytes(
        $"From: {m.From}\r\nTo: {m.Email}\r\nSubject: {m.Subject}\r\nDate: {DateTimeOffset.FromUnixTimeMilliseconds(m.At):R}\r\n" +
        $"Message-ID: <{m.Id:N}@bench.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
        $"Hello, your order {m.I} is confirmed and will ship soon.\r\n" + string.Concat(Enumerable.Repeat("Thank you for shopping with us. We hope to see you again.\r\n", 10)));

    private static string ToJson(in Msg m) => $"[{{\"Email\":\"{m.Email}\",\"Name\":null}}]";
    private static string RcptJson(in Msg m) => $"[\"{m.Email}\"]";
    private static string Meta(in Msg m) => $"{{\"order\":\"{m.I}\"}}";
    private const string DeliveredDetails = "{\"DeliveryMessage\":\"250 2.0.0 OK\",\"DestinationServer\":\"mx.example.net\",\"DestinationIP\":\"127.0.0.1\"}";
    private const string BouncedDetails = "{\"Summary\":\"550 5.1.1 user unknown\",\"BounceID\":\"0\"}";

    public static async Task<Filled> FillAsync(string? sqlitePath, string? postgres, int accountId, int serverId, int count, int days,
        CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var spanMs = (long)days * 86_400_000L;
        var random = new Random(18);
        var samples = new List<Guid>();
        var bounces = 0;
        const int perTransaction = 20_000;
        Console.WriteLine(string.Create(Inv, $"filling {count:N0} messages over {days} days ({(postgres is null ? "SQLite" : "PostgreSQL")})..."));
        if (postgres is null)
        {
            await using var conn = new SqliteConnection($"Data Source={sqlitePath};Pooling=false");
            await conn.OpenAsync(ct);
            // A large page cache for this connection: the random-GUID primary key and the indexes are updated all over the
            // file, and with the default 2 MB cache the fill slowed to a crawl past a few hundred thousand rows.
            await Exec(conn, "PRAGMA busy_timeout=60000; PRAGMA synchronous=OFF; PRAGMA cache_size=-1000000;", ct);
            for (var done = 0; done < count; done += perTransaction)
            {
                ct.ThrowIfCancellationRequested();
                await using var tx = (SqliteTransaction)await conn.BeginTransactionAsync(ct);
                var cmds = SqliteCommands(conn, tx, accountId, serverId);
                for (var i = done; i < Math.Min(count, done + perTransaction); i++)
                {
                    var m = Make(i, count, now, spanMs, random);
                    if (i % 1000 == 500)
                        samples.Add(m.Id);
                    if (m.Bounced)
                        bounces++;
                    await SqliteRowAsync(cmds, m, ct);
                }
                // The trigram search index follows a cursor (MessageSearchIndex): index this transaction's rows, as the
                // accept path does in each group commit.
                for (var k = 0; k < perTransaction; k += Mailroom.Core.Queue.MessageSearchIndex.MaxRowsPerCatchUp)
                {
                    await using var index = conn.CreateCommand();
                    index.Transaction = tx;
                    index.CommandText = Mailroom.Core.Queue.MessageSearchIndex.CatchUp;
                    await index.ExecuteNonQueryAsync(ct);
                }
                await tx.CommitAsync(ct);
                foreach (var c in cmds)
                    c.Dispose();
                if ((done / perTransaction) % 10 == 9)
                    Console.WriteLine(string.Create(Inv, $"  {done + perTransaction:N0} messages, {sw.Elapsed.TotalSeconds:0} s"));
            }
        }
        else
        {
            await using var conn = new NpgsqlConnection(postgres);
            await conn.OpenAsync(ct);
            const int perCopy = 100_000;
            for (var done = 0; done < count; done += perCopy)
            {
                ct.ThrowIfCancellationRequested();
                var batch = new List<Msg>(perCopy);
                for (var i = done; i < Math.Min(count, done + perCopy); i++)
                {
                    var m = Make(i, count, now, spanMs, random);
                    if (i % 1000 == 500)
                        samples.Add(m.Id);
                    if (m.Bounced)
                        bounces++;
                    batch.Add(m);
                }
                await using var tx = await conn.BeginTransactionAsync(ct);
                await PgCopyAsync(conn, batch, accountId, serverId, ct);
                await tx.CommitAsync(ct);
                Console.WriteLine(string.Create(Inv, $"  {done + batch.Count:N0} messages, {sw.Elapsed.TotalSeconds:0} s"));
            }
            // A store that grew over weeks has been analyzed by autovacuum; a bulk load has not yet.
            await using var analyze = new NpgsqlCommand("VACUUM ANALYZE", conn) { CommandTimeout = 0 };
            await analyze.ExecuteNonQueryAsync(ct);
        }
        Console.WriteLine(string.Create(Inv, $"filled {count:N0} messages ({bounces:N0} bounced) in {sw.Elapsed.TotalSeconds:0.0} s"));
        return new Filled(samples, now - spanMs, now, bounces, sw.Elapsed.TotalSeconds);
    }

    private static async Task Exec(DbConnection conn, string sql, CancellationToken ct)
    {
        await using var c = conn.CreateCommand();
        c.CommandText = sql;
        await c.ExecuteNonQueryAsync(ct);
    }

    private static SqliteCommand[] SqliteCommands(SqliteConnection conn, SqliteTransaction tx, int accountId, int serverId)
    {
        SqliteCommand Make(string sql, params string[] names)
        {
            var c = conn.CreateCommand();
            c.Transaction = tx;
            c.CommandText = sql;
            foreach (var n in names)
                c.Parameters.Add(new SqliteParameter(n, null));
            c.Parameters.AddWithValue("$account", accountId);
            c.Parameters.AddWithValue("$server", serverId);
            c.Prepare();
            return c;
        }
        return
        [
            Make("""
                INSERT INTO outbound_messages (Id, AccountId, ServerId, Stream, "From", Subject, Tag, ToJson, CcJson, BccJson, MetadataJson,
                  AttachmentNamesJson, TrackOpens, TrackLinks, Sandboxed, ReturnPathDomain, Mime, RecipientsJson, Stage, StageDetail, Status, ReceivedAt)
                VALUES ($id, $account, $server, $stream, $from, $subject, $tag, $to, '[]', '[]', $meta, '[]', 0, 'None', 0, '', $mime,
                  $rcpts, 1, '', $status, $at)
                """, "$id", "$stream", "$from", "$subject", "$tag", "$to", "$meta", "$mime", "$rcpts", "$status", "$at"),
            Make("""
                INSERT INTO deliveries (MessageId, Recipient, RecipientIndex, Domain, State, Attempts, NextAttemptAt, LeaseUntil, LeaseOwner, CreatedAt, LastResult)
                VALUES ($id, $email, 0, 'example.net', $state, 1, $at, 0, NULL, $at, $result)
                """, "$id", "$email", "$state", "$at", "$result"),
            Make("""
                INSERT INTO message_events (MessageId, ServerId, Recipient, Type, At, DetailsJson) VALUES ($id, $server, $email, $type, $at, $details)
                """, "$id", "$email", "$type", "$at", "$details"),
            Make("""
                INSERT INTO bounces (ServerId, Stream, MessageId, Type, Email, "From", Subject, Tag, Details, BouncedAt, Inactive, CanActivate, Content)
                VALUES ($server, $stream, $id, $type, $email, $from, $subject, $tag, '550 5.1.1 user unknown', $at, $inactive, 1, $content)
                """, "$stream", "$id", "$type", "$email", "$from", "$subject", "$tag", "$at", "$inactive", "$content"),
            Make("""
                INSERT INTO suppressions (ServerId, Stream, Email, Reason, Origin, CreatedAt) VALUES ($server, $stream, $email, 0, 0, $at)
                ON CONFLICT DO NOTHING
                """, "$stream", "$email", "$at"),
        ];
    }

    private static async Task SqliteRowAsync(SqliteCommand[] c, Msg m, CancellationToken ct)
    {
        // EF Core's SQLite provider stores a Guid as upper-case TEXT.
        var id = m.Id.ToString().ToUpperInvariant();
        static void Set(SqliteCommand cmd, string name, object? value) => cmd.Parameters[name].Value = value ?? DBNull.Value;
        Set(c[0], "$id", id); Set(c[0], "$stream", m.Stream); Set(c[0], "$from", m.From); Set(c[0], "$subject", m.Subject);
        Set(c[0], "$tag", m.Tag); Set(c[0], "$to", ToJson(m)); Set(c[0], "$meta", Meta(m)); Set(c[0], "$mime", Mime(m));
        Set(c[0], "$rcpts", RcptJson(m)); Set(c[0], "$status", m.Bounced ? 3 : 1); Set(c[0], "$at", m.At);
        await c[0].ExecuteNonQueryAsync(ct);
        Set(c[1], "$id", id); Set(c[1], "$email", m.Email); Set(c[1], "$state", m.Bounced ? 2 : 1); Set(c[1], "$at", m.At + 1500);
        Set(c[1], "$result", m.Bounced ? "550 5.1.1 user unknown" : "250 2.0.0 OK");
        await c[1].ExecuteNonQueryAsync(ct);
        Set(c[2], "$id", id); Set(c[2], "$email", m.Email); Set(c[2], "$type", m.Bounced ? 3 : 1); Set(c[2], "$at", m.At + 1500);
        Set(c[2], "$details", m.Bounced ? BouncedDetails : DeliveredDetails);
        await c[2].ExecuteNonQueryAsync(ct);
        if (!m.Bounced)
            return;
        Set(c[3], "$stream", m.Stream); Set(c[3], "$id", id); Set(c[3], "$type", m.Hard ? 1 : 2); Set(c[3], "$email", m.Email);
        Set(c[3], "$from", m.From); Set(c[3], "$subject", m.Subject); Set(c[3], "$tag", m.Tag); Set(c[3], "$at", m.At + 1500);
        Set(c[3], "$inactive", m.Hard ? 1 : 0); Set(c[3], "$content", "Reporting-MTA: dns; mx.example.net\r\n\r\n550 5.1.1 user unknown\r\n");
        await c[3].ExecuteNonQueryAsync(ct);
        if (m.Hard)
        {
            Set(c[4], "$stream", m.Stream); Set(c[4], "$email", m.Email); Set(c[4], "$at", m.At + 1500);
            await c[4].ExecuteNonQueryAsync(ct);
        }
    }

    private static async Task PgCopyAsync(NpgsqlConnection conn, List<Msg> batch, int accountId, int serverId, CancellationToken ct)
    {
        await using (var w = await conn.BeginBinaryImportAsync("""
            COPY outbound_messages ("Id", "AccountId", "ServerId", "Stream", "From", "Subject", "Tag", "ToJson", "CcJson", "BccJson", "MetadataJson",
              "AttachmentNamesJson", "TrackOpens", "TrackLinks", "Sandboxed", "ReturnPathDomain", "Mime", "RecipientsJson", "Stage", "StageDetail", "Status", "ReceivedAt")
            FROM STDIN (FORMAT BINARY)
            """, ct))
        {
            foreach (var m in batch)
            {
                await w.StartRowAsync(ct);
                await w.WriteAsync(m.Id, NpgsqlDbType.Uuid, ct);
                await w.WriteAsync(accountId, NpgsqlDbType.Integer, ct);
                await w.WriteAsync(serverId, NpgsqlDbType.Integer, ct);
                await w.WriteAsync(m.Stream, NpgsqlDbType.Text, ct);
                await w.WriteAsync(m.From, NpgsqlDbType.Text, ct);
                await w.WriteAsync(m.Subject, NpgsqlDbType.Text, ct);
                await w.WriteAsync(m.Tag, NpgsqlDbType.Text, ct);
                await w.WriteAsync(ToJson(m), NpgsqlDbType.Text, ct);
                await w.WriteAsync("[]", NpgsqlDbType.Text, ct);
                await w.WriteAsync("[]", NpgsqlDbType.Text, ct);
                await w.WriteAsync(Meta(m), NpgsqlDbType.Text, ct);
                await w.WriteAsync("[]", NpgsqlDbType.Text, ct);
                await w.WriteAsync(false, NpgsqlDbType.Boolean, ct);
                await w.WriteAsync("None", NpgsqlDbType.Text, ct);
                await w.WriteAsync(false, NpgsqlDbType.Boolean, ct);
                await w.WriteAsync("", NpgsqlDbType.Text, ct);
                await w.WriteAsync(Mime(m), NpgsqlDbType.Bytea, ct);
                await w.WriteAsync(RcptJson(m), NpgsqlDbType.Text, ct);
                await w.WriteAsync(1, NpgsqlDbType.Integer, ct);
                await w.WriteAsync("", NpgsqlDbType.Text, ct);
                await w.WriteAsync(m.Bounced ? 3 : 1, NpgsqlDbType.Integer, ct);
                await w.WriteAsync(m.At, NpgsqlDbType.Bigint, ct);
            }
            await w.CompleteAsync(ct);
        }
        await using (var w = await conn.BeginBinaryImportAsync("""
            COPY deliveries ("MessageId", "Recipient", "RecipientIndex", "Domain", "State", "Attempts", "NextAttemptAt", "LeaseUntil", "CreatedAt", "LastResult")
            FROM STDIN (FORMAT BINARY)
            """, ct))
        {
            foreach (var m in batch)
            {
                await w.StartRowAsync(ct);
                await w.WriteAsync(m.Id, NpgsqlDbType.Uuid, ct);
                await w.WriteAsync(m.Email, NpgsqlDbType.Text, ct);
                await w.WriteAsync(0, NpgsqlDbType.Integer, ct);
                await w.WriteAsync("example.net", NpgsqlDbType.Text, ct);
                await w.WriteAsync(m.Bounced ? 2 : 1, NpgsqlDbType.Integer, ct);
                await w.WriteAsync(1, NpgsqlDbType.Integer, ct);
                await w.WriteAsync(m.At + 1500, NpgsqlDbType.Bigint, ct);
                await w.WriteAsync(0L, NpgsqlDbType.Bigint, ct);
                await w.WriteAsync(m.At + 1500, NpgsqlDbType.Bigint, ct);
                await w.WriteAsync(m.Bounced ? "550 5.1.1 user unknown" : "250 2.0.0 OK", NpgsqlDbType.Text, ct);
            }
            await w.CompleteAsync(ct);
        }
        await using (var w = await conn.BeginBinaryImportAsync("""
            COPY message_events ("MessageId", "ServerId", "Recipient", "Type", "At", "DetailsJson") FROM STDIN (FORMAT BINARY)
            """, ct))
        {
            foreach (var m in batch)
            {
                await w.StartRowAsync(ct);
                await w.WriteAsync(m.Id, NpgsqlDbType.Uuid, ct);
                await w.WriteAsync(serverId, NpgsqlDbType.Integer, ct);
                await w.WriteAsync(m.Email, NpgsqlDbType.Text, ct);
                await w.WriteAsync(m.Bounced ? 3 : 1, NpgsqlDbType.Integer, ct);
                await w.WriteAsync(m.At + 1500, NpgsqlDbType.Bigint, ct);
                await w.WriteAsync(m.Bounced ? BouncedDetails : DeliveredDetails, NpgsqlDbType.Text, ct);
            }
            await w.CompleteAsync(ct);
        }
        await using (var w = await conn.BeginBinaryImportAsync("""
            COPY bounces ("ServerId", "Stream", "MessageId", "Type", "Email", "From", "Subject", "Tag", "Details", "BouncedAt", "Inactive", "CanActivate", "Content")
            FROM STDIN (FORMAT BINARY)
            """, ct))
        {
            foreach (var m in batch.Where(m => m.Bounced))
            {
                await w.StartRowAsync(ct);
                await w.WriteAsync(serverId, NpgsqlDbType.Integer, ct);
                await w.WriteAsync(m.Stream, NpgsqlDbType.Text, ct);
                await w.WriteAsync(m.Id, NpgsqlDbType.Uuid, ct);
                await w.WriteAsync(m.Hard ? 1 : 2, NpgsqlDbType.Integer, ct);
                await w.WriteAsync(m.Email, NpgsqlDbType.Text, ct);
                await w.WriteAsync(m.From, NpgsqlDbType.Text, ct);
                await w.WriteAsync(m.Subject, NpgsqlDbType.Text, ct);
                await w.WriteAsync(m.Tag, NpgsqlDbType.Text, ct);
                await w.WriteAsync("550 5.1.1 user unknown", NpgsqlDbType.Text, ct);
                await w.WriteAsync(m.At + 1500, NpgsqlDbType.Bigint, ct);
                await w.WriteAsync(m.Hard, NpgsqlDbType.Boolean, ct);
                await w.WriteAsync(true, NpgsqlDbType.Boolean, ct);
                await w.WriteAsync("Reporting-MTA: dns; mx.example.net\r\n\r\n550 5.1.1 user unknown\r\n", NpgsqlDbType.Text, ct);
            }
            await w.CompleteAsync(ct);
        }
        // Suppressions: one per (stream, address); duplicates of this batch or of earlier ones are skipped.
        var hard = batch.Where(m => m.Hard).DistinctBy(m => (m.Stream, m.Email)).ToList();
        await using var cmd = new NpgsqlCommand("""
            INSERT INTO suppressions ("ServerId", "Stream", "Email", "Reason", "Origin", "CreatedAt")
            SELECT $1, s, e, 0, 0, a FROM unnest($2::text[], $3::text[], $4::bigint[]) AS t(s, e, a)
            ON CONFLICT DO NOTHING
            """, conn);
        cmd.Parameters.Add(new NpgsqlParameter { Value = serverId });
        cmd.Parameters.Add(new NpgsqlParameter { Value = hard.Select(m => m.Stream).ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter { Value = hard.Select(m => m.Email).ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter { Value = hard.Select(m => m.At + 1500).ToArray() });
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
