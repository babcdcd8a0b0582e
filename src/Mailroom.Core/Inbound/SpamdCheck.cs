using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Mailroom.Core.Inbound;

/// <summary>Where SpamAssassin's <c>spamd</c> listens (the <c>Spamd</c> setting); null: no spam check.</summary>
public sealed record SpamdOptions(IPEndPoint? EndPoint)
{
    /// <summary>Larger messages are not checked (spamc's own default limit is 500 KB: rules are written for mail
    /// bodies, and a big attachment only costs time).</summary>
    public int MaxBytes { get; init; } = 512 * 1024;
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(15);
}

/// <summary>spamd's verdict: its score, its required score and the names of the rules that hit.</summary>
public sealed record SpamVerdict(bool IsSpam, double Score, double Required, IReadOnlyList<string> Tests)
{
    /// <summary>The headers SpamAssassin itself adds, for the inbound payload's <c>Headers</c>.</summary>
    public IEnumerable<Mailroom.Contracts.InboundHeader> Headers()
    {
        var score = Score.ToString("0.0", CultureInfo.InvariantCulture);
        var tests = string.Join(",", Tests);
        yield return new("X-Spam-Status", $"{(IsSpam ? "Yes" : "No")}, score={score} required={Required.ToString("0.0", CultureInfo.InvariantCulture)} tests={tests}");
        yield return new("X-Spam-Score", score);
        yield return new("X-Spam-Tests", tests);
    }
}

/// <summary>
/// Asks SpamAssassin's <c>spamd</c> for a verdict over its own protocol (SPAMC/1.5, as <c>spamc</c> speaks it: a
/// <c>SYMBOLS</c> request with the message, answered by <c>SPAMD/1.1 0 EX_OK</c>, a <c>Spam: True ; 7.1 / 5.0</c> header
/// and the rule names as the body). Never fails a message: a missing, slow or confused spamd is logged and the message
/// goes on without a score.
/// </summary>
public sealed class SpamdCheck(SpamdOptions options, ILogger<SpamdCheck> log)
{
    public bool Enabled => options.EndPoint is not null;

    public async Task<SpamVerdict?> CheckAsync(byte[] raw, CancellationToken ct)
    {
        if (options.EndPoint is not { } endPoint)
            return null;
        if (raw.Length > options.MaxBytes)
        {
            log.LogInformation("Inbound message of {Bytes} bytes not given to spamd (limit {Limit})", raw.Length, options.MaxBytes);
            return null;
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(options.Timeout);
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(endPoint, timeout.Token);
            await using var stream = client.GetStream();
            var head = Encoding.ASCII.GetBytes($"SYMBOLS SPAMC/1.5\r\nContent-length: {raw.Length}\r\nUser: mailroom\r\n\r\n");
            await stream.WriteAsync(head, timeout.Token);
            await stream.WriteAsync(raw, timeout.Token);
            client.Client.Shutdown(SocketShutdown.Send); // spamd reads to the end of the request
            using var answer = new MemoryStream();
            await stream.CopyToAsync(answer, timeout.Token);
            if (answer.Length > 64 * 1024)
                throw new InvalidDataException("spamd's answer is over 64 KB.");
            return Parse(Encoding.ASCII.GetString(answer.ToArray()));
        }
        catch (Exception e) when (e is SocketException or IOException or InvalidDataException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            log.LogWarning("spamd at {EndPoint} gave no verdict: {Error}", endPoint, e.Message);
            return null;
        }
    }

    /// <summary>Reads spamd's answer: the status line, a <c>Spam:</c> header, and the comma-separated rule names.</summary>
    internal static SpamVerdict Parse(string answer)
    {
        var split = answer.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var head = split >= 0 ? answer[..split] : answer;
        var body = split >= 0 ? answer[(split + 4)..] : "";
        var lines = head.Split("\r\n");
        var status = lines[0].Split(' ', 3);
        if (status.Length < 3 || !status[0].StartsWith("SPAMD/", StringComparison.Ordinal) || status[1] != "0")
            throw new InvalidDataException($"spamd answered '{lines[0]}'.");
        foreach (var line in lines.Skip(1))
        {
            if (!line.StartsWith("Spam:", StringComparison.OrdinalIgnoreCase))
                continue;
            // "Spam: True ; 1003.3 / 5.0"
            var value = line[5..].Split(';', 2);
            var scores = value.Length == 2 ? value[1].Split('/', 2) : [];
            if (scores.Length == 2
                && double.TryParse(scores[0].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var score)
                && double.TryParse(scores[1].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var required))
            {
                var tests = body.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    .Where(t => t.Length <= 100 && t.All(c => char.IsAsciiLetterOrDigit(c) || c == '_')).Take(100).ToList();
                return new SpamVerdict(value[0].Trim().Equals("True", StringComparison.OrdinalIgnoreCase), score, required, tests);
            }
        }
        throw new InvalidDataException("spamd's answer has no usable Spam header.");
    }
}
