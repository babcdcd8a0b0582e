namespace Mailroom.Core.Identities;

/// <summary>Pass: the record is there and right. Fail: DNS answered and the record is missing or wrong.
/// Unknown: DNS could not be asked (timeout, SERVFAIL): a verified identity keeps its state on Unknown.</summary>
public enum CheckVerdict { Pass, Fail, Unknown }

public sealed record CheckResult(CheckVerdict Verdict, string Detail)
{
    public bool Passed => Verdict == CheckVerdict.Pass;
}

/// <summary>The DNS questions identities ask: "is this DKIM key published?", "does this CNAME point at us?",
/// "does this SPF record include us?".</summary>
public sealed class DnsRecordChecks(DnsLookup dns)
{
    /// <summary>Passes when one of the TXT records at <paramref name="host"/> is an RSA key record carrying
    /// <paramref name="publicKey"/> (RFC 6376 §3.6.2.2). Several records at the name are allowed; any may match.</summary>
    public async Task<CheckResult> DkimAsync(string host, string publicKey, CancellationToken ct = default)
    {
        var answer = await dns.TxtAsync(host, ct);
        if (answer.Outcome != DnsOutcome.Found)
            return NotFound(answer);
        var problems = new List<string>();
        foreach (var txt in answer.Values)
        {
            if (DkimTxtRecord.Matches(txt, publicKey, out var problem))
                return new CheckResult(CheckVerdict.Pass, "");
            problems.Add(problem);
        }
        return new CheckResult(CheckVerdict.Fail, $"The TXT record at {host} does not carry the expected key: {string.Join(" ", problems.Distinct())}");
    }

    /// <summary>Passes when <paramref name="host"/> is a CNAME to <paramref name="target"/> (case and the trailing
    /// dot of the answer do not matter).</summary>
    public async Task<CheckResult> CnameAsync(string host, string target, CancellationToken ct = default)
    {
        var answer = await dns.CnameAsync(host, ct);
        if (answer.Outcome != DnsOutcome.Found)
            return NotFound(answer);
        target = DnsLookup.HostName(target);
        return answer.Values.Contains(target)
            ? new CheckResult(CheckVerdict.Pass, "")
            : new CheckResult(CheckVerdict.Fail, $"{host} is a CNAME to {string.Join(", ", answer.Values)}, not to {target}.");
    }

    /// <summary>The one SPF record at <paramref name="domain"/> (RFC 7208 §4.5: a TXT record starting with
    /// <c>v=spf1</c>; more than one is an error), or a failed result saying why there is none.</summary>
    public async Task<(string? Record, CheckResult Result)> SpfRecordAsync(string domain, CancellationToken ct = default)
    {
        var answer = await dns.TxtAsync(domain, ct);
        if (answer.Outcome != DnsOutcome.Found)
            return (null, NotFound(answer));
        var spf = answer.Values.Where(IsSpf).ToList();
        return spf.Count switch
        {
            0 => (null, new CheckResult(CheckVerdict.Fail, $"{domain} has no SPF (v=spf1) record.")),
            1 => (spf[0], new CheckResult(CheckVerdict.Pass, "")),
            _ => (null, new CheckResult(CheckVerdict.Fail, $"{domain} has {spf.Count} SPF records; RFC 7208 §4.5 makes that a permanent error.")),
        };
    }

    /// <summary>Passes when the SPF record of <paramref name="domain"/> has an <c>include:</c> of
    /// <paramref name="includeHost"/> (any qualifier, RFC 7208 §5.2). A syntactic check, not an SPF evaluation.</summary>
    public async Task<CheckResult> SpfIncludesAsync(string domain, string includeHost, CancellationToken ct = default)
    {
        var (record, result) = await SpfRecordAsync(domain, ct);
        if (record is null)
            return result;
        includeHost = DnsLookup.HostName(includeHost);
        foreach (var term in record.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var t = term.TrimStart('+', '-', '~', '?');
            if (t.StartsWith("include:", StringComparison.OrdinalIgnoreCase) && DnsLookup.HostName(t["include:".Length..]) == includeHost)
                return new CheckResult(CheckVerdict.Pass, "");
        }
        return new CheckResult(CheckVerdict.Fail, $"The SPF record of {domain} does not include:{includeHost}.");
    }

    /// <summary>Passes when <paramref name="host"/> can receive mail: an MX record, or an A record, the implicit MX
    /// of RFC 5321 §5.1.</summary>
    public async Task<CheckResult> ReceivesMailAsync(string host, CancellationToken ct = default)
    {
        var mx = await dns.MxAsync(host, ct);
        if (mx.Outcome == DnsOutcome.Found)
            return new CheckResult(CheckVerdict.Pass, "MX " + string.Join(", ", mx.Values));
        var a = await dns.AddressesAsync(host, ct);
        if (a.Outcome == DnsOutcome.Found)
            return new CheckResult(CheckVerdict.Pass, "A " + string.Join(", ", a.Values));
        return !mx.IsDefinite ? NotFound(mx) : !a.IsDefinite ? NotFound(a)
            : new CheckResult(CheckVerdict.Fail, $"{host} has neither an MX nor an A record.");
    }

    /// <summary>Passes when a TXT record at <paramref name="name"/> starts with <paramref name="prefix"/>
    /// (e.g. <c>v=DMARC1</c>, RFC 7489 §6.4).</summary>
    public async Task<CheckResult> TxtStartingWithAsync(string name, string prefix, CancellationToken ct = default)
    {
        var answer = await dns.TxtAsync(name, ct);
        if (answer.Outcome != DnsOutcome.Found)
            return NotFound(answer);
        return answer.Values.Any(v => v.TrimStart().StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            ? new CheckResult(CheckVerdict.Pass, "")
            : new CheckResult(CheckVerdict.Fail, $"No TXT record at {name} starts with {prefix}.");
    }

    private static bool IsSpf(string txt)
    {
        var t = txt.Trim();
        return t.Equals("v=spf1", StringComparison.OrdinalIgnoreCase) || t.StartsWith("v=spf1 ", StringComparison.OrdinalIgnoreCase);
    }

    private static CheckResult NotFound(DnsAnswer answer) =>
        new(answer.IsDefinite ? CheckVerdict.Fail : CheckVerdict.Unknown, answer.Detail);
}
