using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Mailroom.Core.Storage.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class Tracking : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "engagement_events",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    ServerId = table.Column<int>(type: "integer", nullable: false),
                    MessageId = table.Column<Guid>(type: "uuid", nullable: false),
                    Stream = table.Column<string>(type: "text", nullable: false),
                    Tag = table.Column<string>(type: "text", nullable: false),
                    Recipient = table.Column<string>(type: "text", nullable: false),
                    Kind = table.Column<int>(type: "integer", nullable: false),
                    At = table.Column<long>(type: "bigint", nullable: false),
                    FirstOpen = table.Column<bool>(type: "boolean", nullable: false),
                    UserAgent = table.Column<string>(type: "text", nullable: false),
                    Platform = table.Column<int>(type: "integer", nullable: false),
                    ClientName = table.Column<string>(type: "text", nullable: false),
                    ClientCompany = table.Column<string>(type: "text", nullable: false),
                    ClientFamily = table.Column<string>(type: "text", nullable: false),
                    OsName = table.Column<string>(type: "text", nullable: false),
                    OsCompany = table.Column<string>(type: "text", nullable: false),
                    OsFamily = table.Column<string>(type: "text", nullable: false),
                    Ip = table.Column<string>(type: "text", nullable: false),
                    CountryIsoCode = table.Column<string>(type: "text", nullable: false),
                    Country = table.Column<string>(type: "text", nullable: false),
                    RegionIsoCode = table.Column<string>(type: "text", nullable: false),
                    Region = table.Column<string>(type: "text", nullable: false),
                    City = table.Column<string>(type: "text", nullable: false),
                    Zip = table.Column<string>(type: "text", nullable: false),
                    Coords = table.Column<string>(type: "text", nullable: false),
                    ClickLocation = table.Column<int>(type: "integer", nullable: false),
                    OriginalLink = table.Column<string>(type: "text", nullable: false),
                    Machine = table.Column<bool>(type: "boolean", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_engagement_events", x => x.Id);
                    table.ForeignKey(
                        name: "FK_engagement_events_outbound_messages_MessageId",
                        column: x => x.MessageId,
                        principalTable: "outbound_messages",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "tracked_copies",
                columns: table => new
                {
                    MessageId = table.Column<Guid>(type: "uuid", nullable: false),
                    RecipientIndex = table.Column<int>(type: "integer", nullable: false),
                    Mime = table.Column<byte[]>(type: "bytea", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_tracked_copies", x => new { x.MessageId, x.RecipientIndex });
                    table.ForeignKey(
                        name: "FK_tracked_copies_outbound_messages_MessageId",
                        column: x => x.MessageId,
                        principalTable: "outbound_messages",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "tracked_links",
                columns: table => new
                {
                    MessageId = table.Column<Guid>(type: "uuid", nullable: false),
                    LinkIndex = table.Column<int>(type: "integer", nullable: false),
                    Url = table.Column<string>(type: "text", nullable: false),
                    Location = table.Column<int>(type: "integer", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_tracked_links", x => new { x.MessageId, x.LinkIndex });
                    table.ForeignKey(
                        name: "FK_tracked_links_outbound_messages_MessageId",
                        column: x => x.MessageId,
                        principalTable: "outbound_messages",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_engagement_events_MessageId_Kind_Recipient",
                table: "engagement_events",
                columns: new[] { "MessageId", "Kind", "Recipient" });

            migrationBuilder.CreateIndex(
                name: "IX_engagement_events_ServerId_Kind_At",
                table: "engagement_events",
                columns: new[] { "ServerId", "Kind", "At" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "engagement_events");

            migrationBuilder.DropTable(
                name: "tracked_copies");

            migrationBuilder.DropTable(
                name: "tracked_links");
        }
    }
}
