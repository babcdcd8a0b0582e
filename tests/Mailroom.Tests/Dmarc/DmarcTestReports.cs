using System.IO.Compression;

namespace Mailroom.Tests.Dmarc;

static class DmarcTestReports
{
    /// <summary>Creates a DMARC record for <paramref name="domain"/> as anyone may (no token), and a client of its
    /// private API (<c>X-Api-Token</c>).</summary>
    public static async Task<(JsonElement Record, HttpClient Api)> CreateRecordAsync(MailroomHost host, string domain = "wildbit.example")
    {
        var record = await host.Client().PostAsJsonAsync("/records", new { email = "ops@" + domain, domain }).OkJson();
        var api = host.Client();
        api.DefaultRequestHeaders.Add("X-Api-Token", record.GetProperty("private_token").GetString());
        return (record, api);
    }

    public static string Xml(string domain, string reportId, long begin = 1700000000, int rows = 2, string org = "google.com") => $"""
        <?xml version="1.0" encoding="UTF-8"?>
        <feedback>
          <report_metadata><org_name>{org}</org_name><email>noreply-dmarc-support@{org}</email>
            <extra_contact_info>https://support.google.com/a/answer/2466580</extra_contact_info>
            <report_id>{reportId}</report_id><date_range><begin>{begin}</begin><end>{begin + 86399}</end></date_range></report_metadata>
          <policy_published><domain>{domain}</domain><adkim>r</adkim><aspf>r</aspf><p>none</p><sp>none</sp><pct>100</pct></policy_published>
        {string.Concat(Enumerable.Range(0, rows).Select(i => $"""
          <record>
            <row><source_ip>{(i % 2 == 0 ? "203.0.113." + (i + 1) : "2001:db8::" + (i + 1))}</source_ip><count>{i + 3}</count>
              <policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>fail</spf></policy_evaluated></row>
            <identifiers><header_from>{domain}</header_from></identifiers>
            <auth_results>
              <dkim><domain>esp.example</domain><selector>a</selector><result>pass</result></dkim>
              <dkim><domain>{domain}</domain><selector>b</selector><result>pass</result></dkim>
              <spf><domain>bounce.esp.example</domain><scope>mfrom</scope><result>softfail</result></spf>
            </auth_results>
          </record>
        """))}
        </feedback>
        """;

    public static byte[] Gzip(string xml)
    {
        var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest)) gzip.Write(Encoding.UTF8.GetBytes(xml));
        return output.ToArray();
    }
}
