using Mailroom.Contracts;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Mailroom.Core.Delivery;
using Mailroom.Core.Queue;
using Microsoft.Extensions.Logging;

namespace Mailroom.Core;

/// <summary>
/// Mailroom's instruments, all in one place: one <see cref="Meter"/> and one <see cref="ActivitySource"/>, both named
/// <c>Mailroom</c> (System.Diagnostics, so Core needs no exporter; the executable subscribes with OpenTelemetry).
/// Stages call the one-line methods below. Tag values are bounded: streams are the default stream IDs or
/// <c>other</c>, destination domains the first <see cref="MaxDomains"/> seen or <c>other</c>.
/// </summary>
public static class MailroomMetrics
{
    public const string Name = "Mailroom";
    public const int MaxDomains = 50;

    public static readonly Meter Meter = new(Name);
    public static readonly ActivitySource Source = new(Name);

    private static readonly Counter<long> AcceptedCounter = Meter.CreateCounter<long>("mailroom.messages.accepted", "{message}", "Messages committed to the queue");
    private static readonly Counter<long> PreparedCounter = Meter.CreateCounter<long>("mailroom.messages.prepared", "{message}", "Messages prepared (signed, recipients expanded)");
    private static readonly Counter<long> DeliveredCounter = Meter.CreateCounter<long>("mailroom.messages.delivered", "{delivery}", "Recipient deliveries accepted by the destination");
    private static readonly Counter<long> DeferredCounter = Meter.CreateCounter<long>("mailroom.messages.deferred", "{delivery}", "Recipient deliveries deferred for a later attempt");
    private static readonly Counter<long> BouncedCounter = Meter.CreateCounter<long>("mailroom.messages.bounced", "{delivery}", "Recipient deliveries that failed for good");
    private static readonly Counter<long> AttemptCounter = Meter.CreateCounter<long>("mailroom.delivery.attempts", "{attempt}", "Delivery attempts by destination domain and SMTP reply class");
    private static readonly Histogram<double> AttemptDuration = Meter.CreateHistogram<double>("mailroom.delivery.attempt.duration", "s", "From claim to recorded outcome");
    private static readonly Counter<long> WebhookAttemptCounter = Meter.CreateCounter<long>("mailroom.webhooks.attempts", "{attempt}", "Webhook posts by record type and outcome (done, retry, dropped, failed)");
    private static readonly Counter<long> MxReportCounter = Meter.CreateCounter<long>("mailroom.mx.reports", "{report}", "Reports (bounces, complaints, auto-replies) received by the MX listener");
    private static readonly Histogram<double> CommitDuration = Meter.CreateHistogram<double>("mailroom.queue.commit.duration", "s", "Group commits of accepted messages");
    private static readonly Histogram<double> SmtpSessionDuration = Meter.CreateHistogram<double>("mailroom.smtp.session.duration", "s", "SMTP sessions (submission and MX)");

    /// <summary>Reads the store's queue figures for the gauges (set by the executable; it caches them a few seconds).</summary>
    public static Func<QueueFigures>? QueueSource { get; set; }

    static MailroomMetrics()
    {
        Meter.CreateObservableGauge("mailroom.queue.depth", () => QueueSource is { } f ? f().PendingDeliveries : 0L, "{delivery}",
            "Recipient deliveries waiting (due or deferred)");
        Meter.CreateObservableGauge("mailroom.queue.unprepared", () => QueueSource is { } f ? f().UnpreparedMessages : 0L, "{message}",
            "Accepted messages not yet prepared");
        Meter.CreateObservableGauge("mailroom.queue.oldest.age", () => QueueSource is { } f ? f().OldestAge.TotalSeconds : 0.0, "s",
            "Age of the oldest waiting delivery");
        Meter.CreateObservableGauge("mailroom.webhooks.pending", () => QueueSource is { } f ? f().PendingWebhooks : 0L, "{delivery}",
            "Webhook deliveries waiting to be posted (due, leased or scheduled for a retry)");
        Meter.CreateObservableGauge("mailroom.webhooks.oldest.age", () => QueueSource is { } f ? f().OldestWebhookAge.TotalSeconds : 0.0, "s",
            "Age of the oldest webhook delivery waiting to be posted");
    }

    public static void Accepted(IEnumerable<OutboundMessage> messages)
    {
        foreach (var m in messages)
            AcceptedCounter.Add(1, new KeyValuePair<string, object?>("stream", StreamTag(m.Stream)));
    }

    public static void Prepared(int count) => PreparedCounter.Add(count);

    /// <summary>Counts recorded webhook posts (<paramref name="count"/> of one kind): <paramref name="outcome"/> Done, Retry, Dropped or Failed.</summary>
    public static void WebhookAttempt(string recordType, string outcome, int count = 1) => WebhookAttemptCounter.Add(count,
        new KeyValuePair<string, object?>("record_type", recordType.Length == 0 ? "unknown" : recordType),
        new KeyValuePair<string, object?>("outcome", outcome.ToLowerInvariant()));

    public static void MxReport(string kind) => MxReportCounter.Add(1, new KeyValuePair<string, object?>("kind", kind));

    public static void SmtpSession(string listener, TimeSpan duration) =>
        SmtpSessionDuration.Record(duration.TotalSeconds, new KeyValuePair<string, object?>("listener", listener));

    /// <summary>
    /// Starts the trace of one message's path: a <c>mailroom.accept</c> span (a child of the request or SMTP session's
    /// span when there is one) and returns its W3C <c>traceparent</c>, stored with the message so Preparation and Delivery
    /// parent their spans of it here (<see cref="MessageSpan"/>, <see cref="DeliveryAttempt"/>). Null, at no cost, when no
    /// one listens (tracing off).
    /// </summary>
    public static string? AcceptSpan(Guid messageId)
    {
        using var span = Source.StartActivity("mailroom.accept", ActivityKind.Internal);
        return span?.SetTag("mailroom.message_id", messageId.ToString()).Id;
    }

    /// <summary>A span of one stage's work on one message, in the message's trace when <paramref name="traceParent"/>
    /// names it (else a child of the current span). Dispose when the work is done; null when tracing is off.</summary>
    public static Activity? MessageSpan(string name, Guid messageId, string? traceParent)
    {
        var span = traceParent is not null && ActivityContext.TryParse(traceParent, null, out var parent)
            ? Source.StartActivity(name, ActivityKind.Internal, parent)
            : Source.StartActivity(name, ActivityKind.Internal);
        return span?.SetTag("mailroom.message_id", messageId.ToString());
    }

    /// <summary>Times a group commit and traces it; dispose when the commit is done.</summary>
    public static Timed CommitTimer(int messages) => new(CommitDuration, Source.StartActivity("mailroom.queue.commit")?.SetTag("mailroom.messages", messages));

    /// <summary>Counts one recorded delivery attempt and logs it (one event per attempt: no body, no tokens).</summary>
    public static void DeliveryAttempt(ILogger? log, RecipientDelivery d, DeliveryOutcome o, MessageEventType result, string? stream, long claimedAtMs, long nowMs,
        string? traceParent = null)
    {
        var streamTag = new KeyValuePair<string, object?>("stream", StreamTag(stream));
        var domain = DomainTag(d.Domain);
        var replyClass = o.SmtpCode is int code and >= 200 and < 600 ? $"{code / 100}xx" : "none";
        var outcome = result switch { MessageEventType.Delivered => "delivered", MessageEventType.Transient => "deferred", _ => "bounced" };
        (result switch { MessageEventType.Delivered => DeliveredCounter, MessageEventType.Transient => DeferredCounter, _ => BouncedCounter }).Add(1, streamTag);
        AttemptCounter.Add(1, new("domain", domain), new("reply_class", replyClass), new("outcome", outcome));
        var seconds = Math.Max(0, nowMs - claimedAtMs) / 1000.0;
        AttemptDuration.Record(seconds, new KeyValuePair<string, object?>("domain", domain));
        Activity.Current?.AddEvent(new ActivityEvent("mailroom.delivery.attempt"));
        // The attempt as a span of the message's trace, from the claim to the recorded outcome.
        if (traceParent is not null && ActivityContext.TryParse(traceParent, null, out var parent))
        {
            using var span = Source.StartActivity("mailroom.deliver.recipient", ActivityKind.Client, parent,
                startTime: DateTimeOffset.FromUnixTimeMilliseconds(claimedAtMs));
            span?.SetTag("mailroom.message_id", d.MessageId.ToString()).SetTag("mailroom.destination_domain", d.Domain)
                .SetTag("mailroom.outcome", outcome).SetTag("mailroom.attempt", d.Attempts).SetTag("smtp.reply_code", o.SmtpCode)
                .SetEndTime(DateTimeOffset.FromUnixTimeMilliseconds(Math.Max(nowMs, claimedAtMs)).UtcDateTime);
        }
        log?.LogInformation("Delivery {Outcome}: message {MessageId} stream {Stream} to {Recipient} via {DestinationServer} ({DestinationIP}), attempt {Attempt}: {SmtpCode} {Reply} in {DurationMs} ms",
            outcome, d.MessageId, stream, d.Recipient, o.Host, o.Ip, d.Attempts, o.SmtpCode, o.Reply, (long)(seconds * 1000));
    }

    private static readonly string[] KnownStreams = [DefaultStreams.Outbound, DefaultStreams.Broadcast, DefaultStreams.Inbound];

    private static string StreamTag(string? stream) =>
        stream is not null && Array.IndexOf(KnownStreams, stream) >= 0 ? stream : "other";

    private static readonly ConcurrentDictionary<string, string> Domains = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The first <see cref="MaxDomains"/> domains keep their name as a tag; later ones are <c>other</c>.</summary>
    internal static string DomainTag(string domain)
    {
        if (Domains.TryGetValue(domain, out var tag))
            return tag;
        if (Domains.Count >= MaxDomains)
            return "other";
        var lower = domain.ToLowerInvariant();
        return Domains.GetOrAdd(lower, lower);
    }

    /// <summary>Records a duration when disposed and ends its activity.</summary>
    public readonly struct Timed(Histogram<double> histogram, Activity? activity) : IDisposable
    {
        private readonly long _start = Stopwatch.GetTimestamp();

        public void Dispose()
        {
            histogram.Record(Stopwatch.GetElapsedTime(_start).TotalSeconds);
            activity?.Dispose();
        }
    }
}

/// <summary>What the queue gauges show.</summary>
public sealed record QueueFigures(long PendingDeliveries, long UnpreparedMessages, TimeSpan OldestAge, long PendingWebhooks = 0,
    TimeSpan OldestWebhookAge = default);
