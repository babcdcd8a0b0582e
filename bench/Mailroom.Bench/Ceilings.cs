using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using MailKit.Net.Smtp;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using MimeKit;
using Npgsql;

namespace Mailroom.Bench;

/// <summary>
/// The machine's ceilings for the <c>send</c> bench, measured without Mailroom: raw durable inserts (SQLite WAL
/// synchronous=FULL via Microsoft.Data.Sqlite, PostgreSQL via Npgsql), RSA-2048 signatures and raw SMTP to the sink.
/// Each returns a rate per second over a fixed window.
/// </summary>
public static class Ceilings
{
    public const string Columns = "message_id TEXT NOT NULL, server_id INTEGER NOT NULL, from_addr TEXT NOT NULL, to_addr TEXT NOT NULL, subject TEXT NOT NULL, body TEXT NOT NULL, created_at BIGINT NOT NULL";
    private const string Insert = "INSERT INTO raw_messages (message_id, server_id, from_addr, to_addr, subject, body, created_at) VALUES ($id, 1, $from, $to, $subject, $body, $at)";

    // ---------- SQLite ----------

    public static string SqliteConnection(string file) => new SqliteConnectionStringBuilder
    {
        DataSource = file,
        Pooling = true,
        DefaultTimeout = 60,
    }.ToString();

    public static void SqliteCreate(string file)
    {
        using var c = new SqliteConnection(SqliteConnection(file));
        c.Open();
        Exec(c, "PRAGMA journal_mode=WAL;");
        Exec(c, $"CREATE TABLE IF NOT EXISTS raw_messages (id INTEGER PRIMARY KEY AUTOINCREMENT, {Columns});");
        Exec(c, "CREATE INDEX IF NOT EXISTS ix_raw_messages_id ON raw_messages (message_id);");
    }

    private static SqliteConnection SqliteOpen(string file)
    {
        var c = new SqliteConnection(SqliteConnection(file));
        c.Open();
        Exec(c, "PRAGMA synchronous=FULL; PRAGMA busy_timeout=60000;");
        return c;
    }

    private static void Exec(SqliteConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    private static SqliteCommand SqliteInsertCommand(SqliteConnection c, string body)
    {
        var cmd = c.CreateCommand();
        cmd.CommandText = Insert;
        cmd.Parameters.Add("$id", SqliteType.Text);
        cmd.Parameters.AddWithValue("$from", "app@bench.test");
        cmd.Parameters.AddWithValue("$to", "user@sink.test");
        cmd.Parameters.AddWithValue("$subject", "bench message");
        cmd.Parameters.AddWithValue("$body", body);
        cmd.Parameters.Add("$at", SqliteType.Integer);
        cmd.Prepare();
        return cmd;
    }

    /// <summary>One writer thread per <paramref name="threads"/>, each committing <paramref name="rowsPerCommit"/>
    /// rows per transaction (one fsync of the WAL per commit) until the window ends; rows/s.</summary>
    public static double SqliteInserts(string file, int threads, int rowsPerCommit, string body, TimeSpan window, CancellationToken ct)
    {
        var stop = Stopwatch.StartNew();
        var rows = new long[threads];
        var ts = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            using var c = SqliteOpen(file);
            using var cmd = SqliteInsertCommand(c, body);
            while (stop.Elapsed < window && !ct.IsCancellationRequested)
            {
                using var tx = c.BeginTransaction();
                cmd.Transaction = tx;
                for (var i = 0; i < rowsPerCommit; i++)
                {
                    cmd.Parameters["$id"].Value = Guid.NewGuid().ToString();
                    cmd.Parameters["$at"].Value = DateTime.UtcNow.Ticks;
                    cmd.ExecuteNonQuery();
                }
                tx.Commit();
                rows[t] += rowsPerCommit;
            }
        }) { IsBackground = true }).ToList();
        ts.ForEach(t => t.Start());
        ts.ForEach(t => t.Join());
        return rows.Sum() / stop.Elapsed.TotalSeconds;
    }

    // ---------- The same rows into Mailroom's own schema ----------

    /// <summary>The columns Mailroom's accept path writes (QueueRows), for the real-schema insert.</summary>
    private const string SchemaInsert = """
        INSERT INTO outbound_messages ("Id", "AccountId", "ServerId", "Stream", "From", "Subject", "Tag", "ToJson", "CcJson", "BccJson",
            "MetadataJson", "AttachmentNamesJson", "TrackOpens", "TrackLinks", "Sandboxed", "ReturnPathDomain", "Mime", "RecipientsJson",
            "Stage", "StageDetail", "Status", "ReceivedAt", "TraceParent")
        VALUES (@Id, 1, 1, 'outbound', 'app@bench.test', @Subject, '', @ToJson, '[]', '[]', '{}', '[]', 0, 'None', 0, 'bench.test',
            @Mime, @RecipientsJson, 0, '', 0, @ReceivedAt, NULL)
        """;

    private static readonly string PgSchemaInsert = SchemaInsert.Replace("0, 'None', 0,", "false, 'None', false,", StringComparison.Ordinal);

    /// <summary>A Mailroom store (every migration applied): SQLite file or PostgreSQL database.</summary>
    public static async Task SchemaCreateAsync(string? sqliteFile, string? postgres, CancellationToken ct)
    {
        await using Mailroom.Core.Storage.MailroomDb db = sqliteFile is not null
            ? new Mailroom.Core.Storage.SqliteMailroomDb(new Microsoft.EntityFrameworkCore.DbContextOptionsBuilder<Mailroom.Core.Storage.SqliteMailroomDb>()
                .UseSqlite(SqliteConnection(sqliteFile)).Options)
            : new Mailroom.Core.Storage.PostgresMailroomDb(new Microsoft.EntityFrameworkCore.DbContextOptionsBuilder<Mailroom.Core.Storage.PostgresMailroomDb>()
                .UseNpgsql(postgres).Options);
        await Mailroom.Core.Storage.DatabaseSetup.MigrateAsync(db, ct);
    }

    /// <summary>
    /// Like <see cref="SqliteInserts"/> (1 writer), but Mailroom's message rows into Mailroom's own <c>outbound_messages</c>
    /// (text primary key, its secondary indexes, the search index's triggers) with time-ordered ids, and, per commit, the
    /// search index catch-up the accept path runs (<see cref="Mailroom.Core.Queue.MessageSearchIndex"/>): what the schema
    /// itself costs beside the one-index raw table.
    /// </summary>
    public static double SchemaSqliteInserts(string file, int rowsPerCommit, string body, TimeSpan window, CancellationToken ct)
    {
        var stop = Stopwatch.StartNew();
        long rows = 0;
        var mime = Encoding.UTF8.GetBytes("From: app@bench.test\r\nTo: user@sink.test\r\nSubject: bench message\r\n\r\n" + body);
        using var c = SqliteOpen(file);
        using var cmd = c.CreateCommand();
        cmd.CommandText = SchemaInsert;
        foreach (var name in new[] { "@Id", "@Subject", "@ToJson", "@Mime", "@RecipientsJson", "@ReceivedAt" })
            cmd.Parameters.Add(new SqliteParameter(name, null));
        using var index = c.CreateCommand();
        index.CommandText = Mailroom.Core.Queue.MessageSearchIndex.CatchUp;
        var n = 0L;
        while (stop.Elapsed < window && !ct.IsCancellationRequested)
        {
            using var tx = c.BeginTransaction();
            cmd.Transaction = tx;
            index.Transaction = tx;
            for (var i = 0; i < rowsPerCommit; i++, n++)
            {
                var now = DateTimeOffset.UtcNow;
                cmd.Parameters["@Id"].Value = Mailroom.Core.Queue.OutboundMessage.NewId(now).ToString().ToUpperInvariant();
                cmd.Parameters["@Subject"].Value = "bench message " + n;
                cmd.Parameters["@ToJson"].Value = $"[{{\"Email\":\"user{n}@sink.test\",\"Name\":\"\"}}]";
                cmd.Parameters["@Mime"].Value = mime;
                cmd.Parameters["@RecipientsJson"].Value = $"[\"user{n}@sink.test\"]";
                cmd.Parameters["@ReceivedAt"].Value = now.ToUnixTimeMilliseconds();
                cmd.ExecuteNonQuery();
            }
            index.ExecuteNonQuery();
            tx.Commit();
            rows += rowsPerCommit;
        }
        return rows / stop.Elapsed.TotalSeconds;
    }

    /// <summary>Like <see cref="SchemaSqliteInserts"/> on PostgreSQL, one <see cref="NpgsqlBatch"/> per transaction
    /// (Mailroom's own indexes, the pg_trgm GIN indexes of the search included).</summary>
    public static async Task<double> SchemaPgInsertsAsync(string conn, int rowsPerCommit, string body, TimeSpan window, CancellationToken ct)
    {
        var stop = Stopwatch.StartNew();
        long rows = 0, n = 0;
        var mime = Encoding.UTF8.GetBytes("From: app@bench.test\r\nTo: user@sink.test\r\nSubject: bench message\r\n\r\n" + body);
        await using var c = new NpgsqlConnection(conn);
        await c.OpenAsync(ct);
        while (stop.Elapsed < window && !ct.IsCancellationRequested)
        {
            await using var tx = await c.BeginTransactionAsync(ct);
            await using var batch = new NpgsqlBatch(c, tx);
            for (var i = 0; i < rowsPerCommit; i++, n++)
            {
                var now = DateTimeOffset.UtcNow;
                var bc = new NpgsqlBatchCommand(PgSchemaInsert);
                bc.Parameters.AddWithValue("Id", Mailroom.Core.Queue.OutboundMessage.NewId(now));
                bc.Parameters.AddWithValue("Subject", "bench message " + n);
                bc.Parameters.AddWithValue("ToJson", $"[{{\"Email\":\"user{n}@sink.test\",\"Name\":\"\"}}]");
                bc.Parameters.AddWithValue("Mime", mime);
                bc.Parameters.AddWithValue("RecipientsJson", $"[\"user{n}@sink.test\"]");
                bc.Parameters.AddWithValue("ReceivedAt", now.ToUnixTimeMilliseconds());
                batch.BatchCommands.Add(bc);
            }
            await batch.ExecuteNonQueryAsync(ct);
            await tx.CommitAsync(ct);
            rows += rowsPerCommit;
        }
        return rows / stop.Elapsed.TotalSeconds;
    }

    // ---------- PostgreSQL ----------

    public static async Task PgCreateAsync(string conn, CancellationToken ct)
    {
        await using var c = new NpgsqlConnection(conn);
        await c.OpenAsync(ct);
        await using var cmd = new NpgsqlCommand($"CREATE TABLE IF NOT EXISTS raw_messages (id BIGSERIAL PRIMARY KEY, {Columns}); CREATE INDEX IF NOT EXISTS ix_raw_messages_id ON raw_messages (message_id);", c);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Like <see cref="SqliteInserts"/>, over Npgsql: each connection sends its transaction's rows as one
    /// <see cref="NpgsqlBatch"/> (one round trip) and commits (synchronous_commit as configured, default on).</summary>
    public static async Task<double> PgInsertsAsync(string conn, int clients, int rowsPerCommit, string body, TimeSpan window, CancellationToken ct)
    {
        var stop = Stopwatch.StartNew();
        var rows = new long[clients];
        const string sql = "INSERT INTO raw_messages (message_id, server_id, from_addr, to_addr, subject, body, created_at) VALUES ($1, 1, $2, $3, $4, $5, $6)";
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async t =>
        {
            await using var c = new NpgsqlConnection(conn);
            await c.OpenAsync(ct);
            while (stop.Elapsed < window && !ct.IsCancellationRequested)
            {
                await using var tx = await c.BeginTransactionAsync(ct);
                await using var batch = new NpgsqlBatch(c, tx);
                for (var i = 0; i < rowsPerCommit; i++)
                {
                    var bc = new NpgsqlBatchCommand(sql);
                    bc.Parameters.Add(new NpgsqlParameter { Value = Guid.NewGuid().ToString() });
                    bc.Parameters.Add(new NpgsqlParameter { Value = "app@bench.test" });
                    bc.Parameters.Add(new NpgsqlParameter { Value = "user@sink.test" });
                    bc.Parameters.Add(new NpgsqlParameter { Value = "bench message" });
                    bc.Parameters.Add(new NpgsqlParameter { Value = body });
                    bc.Parameters.Add(new NpgsqlParameter { Value = DateTime.UtcNow.Ticks });
                    batch.BatchCommands.Add(bc);
                }
                await batch.ExecuteNonQueryAsync(ct);
                await tx.CommitAsync(ct);
                rows[t] += rowsPerCommit;
            }
        }));
        return rows.Sum() / stop.Elapsed.TotalSeconds;
    }

    // ---------- RSA ----------

    /// <summary>RSA-2048 PKCS#1 v1.5 signatures of SHA-256 hashes (what DKIM rsa-sha256 does per message) on
    /// <paramref name="threads"/> threads, one key each; signatures/s.</summary>
    public static double RsaSignatures(int threads, TimeSpan window, CancellationToken ct)
    {
        var counts = new long[threads];
        var start = new Barrier(threads + 1);
        var stop = 0;
        var ts = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            using var rsa = RSA.Create(2048);
            var hash = SHA256.HashData(Encoding.ASCII.GetBytes("bench " + t));
            rsa.SignHash(hash, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            start.SignalAndWait();
            while (Volatile.Read(ref stop) == 0)
            {
                hash[0]++;
                rsa.SignHash(hash, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
                counts[t]++;
            }
        }) { IsBackground = true }).ToList();
        ts.ForEach(t => t.Start());
        start.SignalAndWait();
        var sw = Stopwatch.StartNew();
        ct.WaitHandle.WaitOne(window);
        Volatile.Write(ref stop, 1);
        var seconds = sw.Elapsed.TotalSeconds;
        var total = counts.Sum(); // read after stop: the last signatures in flight add at most `threads`
        ts.ForEach(t => t.Join());
        return total / seconds;
    }

    // ---------- raw SMTP ----------

    public static MimeMessage BuildMessage(string body, int n)
    {
        var m = new MimeMessage();
        m.From.Add(MailboxAddress.Parse("app@bench.test"));
        m.To.Add(MailboxAddress.Parse("user@sink.test"));
        m.Subject = "bench message " + n;
        m.Body = new TextPart("plain") { Text = body };
        return m;
    }

    /// <summary>MailKit <see cref="SmtpClient"/>s, one per connection, each sending pre-built messages to the sink
    /// in a loop (a fresh connection every <paramref name="perConnection"/> messages, like Mailroom's delivery);
    /// messages/s as counted by the sink.</summary>
    public static async Task<double> SmtpAsync(SmtpSink sink, int connections, int perConnection, string body, TimeSpan window, CancellationToken ct)
    {
        // Each connection its own messages: MailKit prepares (mutates) a message as it sends it, so one instance sent on
        // two connections at once can throw.
        var perConnectionMessages = Enumerable.Range(0, connections)
            .Select(c => Enumerable.Range(0, 16).Select(i => BuildMessage(body, c * 16 + i)).ToArray()).ToArray();
        var stop = Stopwatch.StartNew();
        var before = sink.Messages;
        await Task.WhenAll(Enumerable.Range(0, connections).Select(async c =>
        {
            var messages = perConnectionMessages[c];
            var n = 0;
            while (stop.Elapsed < window && !ct.IsCancellationRequested)
            {
                using var client = new SmtpClient { LocalDomain = "bench.test" };
                // TCP_NODELAY, as Mailroom's SmtpDeliverer sets it.
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, sink.Port), ct);
                await client.ConnectAsync(socket, "127.0.0.1", sink.Port, MailKit.Security.SecureSocketOptions.None, ct);
                for (var i = 0; i < perConnection && stop.Elapsed < window; i++)
                    await client.SendAsync(messages[n++ % messages.Length], ct);
                await client.DisconnectAsync(true, ct);
            }
        }));
        return (sink.Messages - before) / stop.Elapsed.TotalSeconds;
    }
}
