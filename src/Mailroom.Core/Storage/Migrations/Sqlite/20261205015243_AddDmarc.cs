using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Mailroom.Core.Storage.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class AddDmarc : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "dmarc_domains",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Domain = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    Email = table.Column<string>(type: "TEXT", maxLength: 320, nullable: false),
                    PublicToken = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    PrivateTokenHash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    RecoveryTokenHash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_dmarc_domains", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "dmarc_failure_reports",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    DomainId = table.Column<int>(type: "INTEGER", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    ReporterDomain = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    FeedbackType = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    AuthFailure = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    ReportedDomain = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    SourceIp = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    ArrivalDate = table.Column<DateTime>(type: "TEXT", nullable: true),
                    DkimDomains = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: false),
                    DkimSelector = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    SpfDns = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: false),
                    IdentityAlignment = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    DeliveryResult = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    EnvelopeFromDomain = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    HeaderFromDomain = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_dmarc_failure_reports", x => x.Id);
                    table.ForeignKey(
                        name: "FK_dmarc_failure_reports_dmarc_domains_DomainId",
                        column: x => x.DomainId,
                        principalTable: "dmarc_domains",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "dmarc_reports",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    DomainId = table.Column<int>(type: "INTEGER", nullable: false),
                    DedupKey = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    ExternalId = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    OrganizationName = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    Email = table.Column<string>(type: "TEXT", maxLength: 320, nullable: false),
                    ExtraContactInfo = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: false),
                    SourceUri = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: false),
                    PolicyDomain = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    DateRangeBegin = table.Column<DateTime>(type: "TEXT", nullable: false),
                    DateRangeEnd = table.Column<DateTime>(type: "TEXT", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    DkimAlignmentMode = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    SpfAlignmentMode = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    DomainPolicy = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    SubdomainPolicy = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    FilteringPercentage = table.Column<int>(type: "INTEGER", nullable: true),
                    RawXmlGzip = table.Column<byte[]>(type: "BLOB", nullable: false),
                    RawSize = table.Column<long>(type: "INTEGER", nullable: false),
                    RecordCount = table.Column<int>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_dmarc_reports", x => x.Id);
                    table.ForeignKey(
                        name: "FK_dmarc_reports_dmarc_domains_DomainId",
                        column: x => x.DomainId,
                        principalTable: "dmarc_domains",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "dmarc_report_rows",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    ReportId = table.Column<long>(type: "INTEGER", nullable: false),
                    RowNum = table.Column<int>(type: "INTEGER", nullable: false),
                    SourceIp = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    SourceIpVersion = table.Column<int>(type: "INTEGER", nullable: false),
                    Count = table.Column<long>(type: "INTEGER", nullable: false),
                    Disposition = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    PolicyDkim = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    PolicySpf = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    ReasonType = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    ReasonComment = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: false),
                    HeaderFrom = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    EnvelopeFrom = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    AuthResults = table.Column<string>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_dmarc_report_rows", x => x.Id);
                    table.ForeignKey(
                        name: "FK_dmarc_report_rows_dmarc_reports_ReportId",
                        column: x => x.ReportId,
                        principalTable: "dmarc_reports",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_dmarc_domains_Domain",
                table: "dmarc_domains",
                column: "Domain");

            migrationBuilder.CreateIndex(
                name: "IX_dmarc_domains_PrivateTokenHash",
                table: "dmarc_domains",
                column: "PrivateTokenHash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_dmarc_domains_PublicToken",
                table: "dmarc_domains",
                column: "PublicToken",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_dmarc_domains_RecoveryTokenHash",
                table: "dmarc_domains",
                column: "RecoveryTokenHash");

            migrationBuilder.CreateIndex(
                name: "IX_dmarc_failure_reports_DomainId_CreatedAt",
                table: "dmarc_failure_reports",
                columns: new[] { "DomainId", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_dmarc_report_rows_ReportId_RowNum",
                table: "dmarc_report_rows",
                columns: new[] { "ReportId", "RowNum" });

            migrationBuilder.CreateIndex(
                name: "IX_dmarc_reports_DomainId_DateRangeBegin",
                table: "dmarc_reports",
                columns: new[] { "DomainId", "DateRangeBegin" });

            migrationBuilder.CreateIndex(
                name: "IX_dmarc_reports_DomainId_DedupKey",
                table: "dmarc_reports",
                columns: new[] { "DomainId", "DedupKey" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "dmarc_failure_reports");

            migrationBuilder.DropTable(
                name: "dmarc_report_rows");

            migrationBuilder.DropTable(
                name: "dmarc_reports");

            migrationBuilder.DropTable(
                name: "dmarc_domains");
        }
    }
}
