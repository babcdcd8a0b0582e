using Mailroom.Core.Queue;
using Mailroom.Core.Storage;
using Mailroom.Mail.Bounces;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Mailroom.Core.Events;

/// <summary>Thresholds of the <see cref="StreamBreaker"/>: rates over the last <see cref="Window"/> finished deliveries.</summary>
public sealed record StreamBreakerOptions
{
    /// <summary>Pause when more than this share of the window hard-bounced (default 10%).</summary>
    public double HardBounceRate { get; init; } = 0.10;
    /// <summary>Pause when more than this share of the window complained (default 0.1%).</summary>
    public double ComplaintRate { get; init; } = 0.001;
    /// <summary>No judgement on fewer finished deliveries than this.</summary>
    public int MinimumSample { get; init; } = 100;
    public int Window { get; init; } = 1000;
}

/// <summary>
/// Protects a stream's reputation: after a hard bounce or a complaint, looks at the stream's last
/// <see cref="StreamBreakerOptions.Window"/> finished deliveries and pauses the stream itself when the hard-bounce
/// or complaint rate is over its threshold, recording the figures as the pause reason (shown in the stream's
/// <c>Paused</c>). The customer resumes it after cleaning the list.
/// </summary>
public sealed class StreamBreaker(StreamBreakerOptions options, TimeProvider clock, ILogger<StreamBreaker> log)
{
    public async Task CheckAsync(MailroomDb db, int serverId, string stream, CancellationToken ct)
    {
        var paused = await db.MessageStreams.Where(s => s.ServerId == serverId && s.StreamId == stream).Select(s => s.PausedAt).FirstOrDefaultAsync(ct);
        if (paused is not null)
            return;
        var sample = await db.Deliveries.AsNoTracking()
            .Where(d => d.State == DeliveryState.Delivered || d.State == DeliveryState.Failed)
            .Join(db.OutboundMessages.Where(m => m.ServerId == serverId && m.Stream == stream), d => d.MessageId, m => m.Id, (d, m) => d)
            .OrderByDescending(d => d.Id).Take(options.Window)
            .Select(d => new { d.MessageId, d.Recipient }).ToListAsync(ct);
        if (sample.Count < options.MinimumSample)
            return;
        var ids = sample.Select(s => s.MessageId).Distinct().ToList();
        var sampled = sample.Select(s => (s.MessageId, s.Recipient.ToLowerInvariant())).ToHashSet();
        var bounces = await db.Bounces.AsNoTracking()
            .Where(b => b.ServerId == serverId && b.Stream == stream && b.MessageId != null && ids.Contains(b.MessageId.Value)
                && (b.Type == BounceType.HardBounce || b.Type == BounceType.SpamComplaint))
            .Select(b => new { b.MessageId, b.Email, b.Type }).ToListAsync(ct);
        var counted = bounces.Where(b => sampled.Contains((b.MessageId!.Value, b.Email))).DistinctBy(b => (b.MessageId, b.Email, b.Type)).ToList();
        var hard = counted.Count(b => b.Type == BounceType.HardBounce);
        var complaints = counted.Count(b => b.Type == BounceType.SpamComplaint);
        string? reason = null;
        if (hard > options.HardBounceRate * sample.Count)
            reason = $"Paused by the bounce breaker: {hard} hard bounces in the last {sample.Count} deliveries ({Percent(hard, sample.Count)}, limit {options.HardBounceRate:0.###%}).";
        else if (complaints > options.ComplaintRate * sample.Count)
            reason = $"Paused by the complaint breaker: {complaints} spam complaints in the last {sample.Count} deliveries ({Percent(complaints, sample.Count)}, limit {options.ComplaintRate:0.###%}).";
        if (reason is null)
            return;
        var now = clock.GetUtcNow().UtcDateTime;
        var changed = await db.MessageStreams.Where(s => s.ServerId == serverId && s.StreamId == stream && s.PausedAt == null)
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.PausedAt, now).SetProperty(s => s.PauseReason, reason), ct);
        if (changed > 0)
            log.LogWarning("Stream {Stream} of server {ServerId}: {Reason}", stream, serverId, reason);
    }

    private static string Percent(int part, int whole) => ((double)part / whole).ToString("0.##%", System.Globalization.CultureInfo.InvariantCulture);
}
