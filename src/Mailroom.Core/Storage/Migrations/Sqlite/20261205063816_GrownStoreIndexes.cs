using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Mailroom.Core.Storage.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class GrownStoreIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_deliveries_MessageId",
                table: "deliveries");

            migrationBuilder.CreateIndex(
                name: "IX_outbound_messages_ServerId_Stream_Tag_ReceivedAt",
                table: "outbound_messages",
                columns: new[] { "ServerId", "Stream", "Tag", "ReceivedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_deliveries_MessageId_State",
                table: "deliveries",
                columns: new[] { "MessageId", "State" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_outbound_messages_ServerId_Stream_Tag_ReceivedAt",
                table: "outbound_messages");

            migrationBuilder.DropIndex(
                name: "IX_deliveries_MessageId_State",
                table: "deliveries");

            migrationBuilder.CreateIndex(
                name: "IX_deliveries_MessageId",
                table: "deliveries",
                column: "MessageId");
        }
    }
}
