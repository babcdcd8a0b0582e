using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Mailroom.Core.Storage.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class SendPathBodiesOnceAndStageIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "HtmlBody",
                table: "outbound_messages");

            migrationBuilder.DropColumn(
                name: "TextBody",
                table: "outbound_messages");

            migrationBuilder.CreateIndex(
                name: "IX_outbound_messages_Stage_ReceivedAt",
                table: "outbound_messages",
                columns: new[] { "Stage", "ReceivedAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_outbound_messages_Stage_ReceivedAt",
                table: "outbound_messages");

            migrationBuilder.AddColumn<string>(
                name: "HtmlBody",
                table: "outbound_messages",
                type: "TEXT",
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<string>(
                name: "TextBody",
                table: "outbound_messages",
                type: "TEXT",
                nullable: false,
                defaultValue: "");
        }
    }
}
