using System.Text;

namespace Mailroom.Mail.Tests.DmarcReports;

/// <summary>Generated report documents for the parser tests; real ones are in tests/corpus/dmarc.</summary>
static class DmarcSamples
{
    public const string Rfc9990Namespace = "urn:ietf:params:xml:ns:dmarc-2.0";

    public static string Report(string ns = "", int records = 1, string? extraRecordXml = null, string reportId = "r-1",
        string domain = "example.com") =>
        Header(ns, reportId, domain) + string.Concat(Enumerable.Range(0, records).Select(Record)) + (extraRecordXml ?? "") + "</feedback>\n";

    public static string Header(string ns = "", string reportId = "r-1", string domain = "example.com") => $"""
        <?xml version="1.0" encoding="UTF-8"?>
        <feedback{(ns.Length > 0 ? $" xmlns=\"{ns}\"" : "")}>
          <version>1.0</version>
          <report_metadata>
            <org_name>Reporter Inc.</org_name>
            <email>dmarc@reporter.example</email>
            <report_id>{reportId}</report_id>
            <date_range><begin>1700000000</begin><end>1700086399 </end></date_range>
          </report_metadata>
          <policy_published>
            <domain>{domain}</domain><adkim>r</adkim><aspf>s</aspf><p>none</p><sp>quarantine</sp><pct>100</pct>
          </policy_published>

        """;

    public static string Record(int i) => $"""
          <record>
            <row>
              <source_ip>192.0.2.{i % 250 + 1}</source_ip>
              <count>{i + 1}</count>
              <policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>Fail</spf></policy_evaluated>
            </row>
            <identifiers><header_from>example.com</header_from></identifiers>
            <auth_results>
              <dkim><domain>example.com</domain><selector>s1</selector><result>pass</result></dkim>
              <dkim><domain>esp.example</domain><selector>s2</selector><result>fail</result></dkim>
              <spf><domain>bounce.esp.example</domain><scope>mfrom</scope><result>softfail</result></spf>
            </auth_results>
          </record>

        """;

    public static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);
}
