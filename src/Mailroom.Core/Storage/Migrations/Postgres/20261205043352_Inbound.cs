using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Mailroom.Core.Storage.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class Inbound : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "inbound_messages",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    ServerId = table.Column<int>(type: "integer", nullable: false),
                    ReceivedAt = table.Column<long>(type: "bigint", nullable: false),
                    MailFrom = table.Column<string>(type: "character varying(320)", maxLength: 320, nullable: false),
                    Recipient = table.Column<string>(type: "character varying(320)", maxLength: 320, nullable: false),
                    ClientIp = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Helo = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    Raw = table.Column<byte[]>(type: "bytea", nullable: false),
                    Status = table.Column<int>(type: "integer", nullable: false),
                    FromEmail = table.Column<string>(type: "character varying(320)", maxLength: 320, nullable: false),
                    Subject = table.Column<string>(type: "text", nullable: false),
                    MailboxHash = table.Column<string>(type: "character varying(320)", maxLength: 320, nullable: false),
                    Tag = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: false),
                    SummaryJson = table.Column<string>(type: "text", nullable: false),
                    BlockedReason = table.Column<string>(type: "text", nullable: false),
                    WebhookEventId = table.Column<long>(type: "bigint", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_inbound_messages", x => x.Id);
                    table.ForeignKey(
                        name: "FK_inbound_messages_servers_ServerId",
                        column: x => x.ServerId,
                        principalTable: "servers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_inbound_messages_webhook_events_WebhookEventId",
                        column: x => x.WebhookEventId,
                        principalTable: "webhook_events",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.SetNull);
                });

            migrationBuilder.CreateTable(
                name: "inbound_rules",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    ServerId = table.Column<int>(type: "integer", nullable: false),
                    Rule = table.Column<string>(type: "character varying(320)", maxLength: 320, nullable: false),
                    CreatedAt = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_inbound_rules", x => x.Id);
                    table.ForeignKey(
                        name: "FK_inbound_rules_servers_ServerId",
                        column: x => x.ServerId,
                        principalTable: "servers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_inbound_messages_ServerId_ReceivedAt",
                table: "inbound_messages",
                columns: new[] { "ServerId", "ReceivedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_inbound_messages_Status",
                table: "inbound_messages",
                column: "Status");

            migrationBuilder.CreateIndex(
                name: "IX_inbound_messages_WebhookEventId",
                table: "inbound_messages",
                column: "WebhookEventId");

            migrationBuilder.CreateIndex(
                name: "IX_inbound_rules_ServerId_Rule",
                table: "inbound_rules",
                columns: new[] { "ServerId", "Rule" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "inbound_messages");

            migrationBuilder.DropTable(
                name: "inbound_rules");
        }
    }
}
