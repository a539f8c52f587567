// Contacts in real browsers: an agent edits a visitor's profile in the conversation's sidebar
// and sees it at once; the Contacts page finds two contacts by search and merges them; after
// that, the visitor's earlier (resolved) conversation is listed in the sidebar and opens.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ALICE, eventually, launchBrowser, loginAgent, newPerson, shot, startServer, visitorSays, widgetConnected } from "./harness.mjs";

describe("contacts", () => {
  let server;
  let browser;

  before(async () => {
    server = await startServer("contacts");
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  /** Opens the conversation whose row shows `text` and waits for its contact panel. */
  async function openChat(page, text) {
    await page.locator('[data-testid="conv-item"]', { hasText: text }).click();
    await page.waitForURL((u) => u.pathname.startsWith("/app/c/"));
    await page.getByTestId("contact-profile").waitFor();
    return page.url();
  }

  /** Edits the sidebar's profile: `fields` by test id suffix, then saves. */
  async function editProfile(page, fields, attribute) {
    const panel = page.getByTestId("contact-panel");
    await panel.getByTestId("contact-edit").click();
    const form = panel.getByTestId("contact-form");
    await form.waitFor();
    for (const [k, v] of Object.entries(fields)) await form.getByTestId("contact-" + k).fill(v);
    if (attribute) {
      await form.getByTestId("attr-add").click();
      await form.getByTestId("attr-key").last().fill(attribute[0]);
      await form.getByTestId("attr-value").last().fill(attribute[1]);
    }
    await form.getByTestId("contact-save").click();
    await form.waitFor({ state: "detached" });
  }

  it("edits a visitor's profile in the sidebar, finds and merges contacts, and opens an earlier conversation", async () => {
    const laptop = await newPerson(browser);
    await visitorSays(laptop, server, "First question from the laptop");
    const phone = await newPerson(browser);
    await visitorSays(phone, server, "Second question from the phone");

    const alice = await newPerson(browser);
    await loginAgent(alice.page, server, ALICE);
    const page = alice.page;
    await page.bringToFront();
    await eventually("both chats listed", async () => (await page.getByTestId("conv-item").count()) === 2);

    // 1. The phone visitor's profile, edited in the sidebar, shows at once everywhere.
    await openChat(page, "Second question");
    await editProfile(page, { name: "Ann Lee", company: "Acme Inc", phone: "+1 555 010 9999" }, ["plan", "pro"]);
    const panel = page.getByTestId("contact-panel");
    await eventually("the new name in the sidebar", async () => (await panel.getByTestId("profile-name").textContent()) === "Ann Lee");
    assert.equal(await panel.getByTestId("profile-company").textContent(), "Acme Inc");
    assert.match((await panel.getByTestId("profile-attributes").textContent()) || "", /plan\s*pro/);
    await eventually("the new name in the header and the list", async () => {
      const header = (await page.locator(".pane-header h2").textContent()) || "";
      const row = page.locator('[data-testid="conv-item"]', { hasText: "Second question" });
      return header === "Ann Lee" && /Ann Lee/.test((await row.textContent()) || "");
    });
    assert.match((await panel.textContent()) || "", /No earlier conversations/);
    await shot(page, "contacts-sidebar-profile");

    // A bad value is refused with the server's reason, and nothing changes.
    await panel.getByTestId("contact-edit").click();
    await panel.getByTestId("contact-phone").fill("call me maybe");
    await panel.getByTestId("contact-save").click();
    await panel.locator(".form-error", { hasText: /phone number/ }).waitFor();
    await shot(page, "contacts-sidebar-edit-error");
    await panel.getByTestId("contact-cancel").click();
    assert.equal(await panel.getByTestId("profile-phone").textContent(), "+1 555 010 9999");

    // 2. The laptop visitor gets a name too, and their chat is taken and resolved.
    const laptopUrl = await openChat(page, "First question");
    const laptopConv = decodeURIComponent(new URL(laptopUrl).pathname.split("/").pop());
    await editProfile(page, { name: "Ann (laptop)", email: "ann@example.com" });
    await eventually("the laptop name", async () => (await panel.getByTestId("profile-name").textContent()) === "Ann (laptop)");
    await page.getByTestId("take").click();
    await page.getByTestId("resolve").click();
    await page.getByTestId("reopen").waitFor();

    // 3. The Contacts page finds both by search; the phone contact is kept in a merge.
    await page.getByTestId("nav-contacts").click();
    await page.waitForURL((u) => u.pathname === "/app/contacts");
    const rows = page.getByTestId("contact-row");
    await eventually("two contacts listed", async () => (await rows.count()) === 2);
    await page.getByTestId("contacts-search").fill("acme");
    await eventually("the search to find one", async () => (await rows.count()) === 1 && /Ann Lee/.test((await rows.first().textContent()) || ""));
    assert.match(page.url(), /\?q=acme/, "the search is in the URL");
    await page.getByTestId("contacts-search").fill("ann");
    await eventually("the search to find both", async () => (await rows.count()) === 2);
    await shot(page, "contacts-page");
    // Filters: only the one with an email.
    await page.getByTestId("contacts-email").selectOption("yes");
    await eventually("the email filter", async () => (await rows.count()) === 1 && /laptop/.test((await rows.first().textContent()) || ""));
    await page.getByTestId("contacts-clear").click();
    await eventually("all again", async () => (await rows.count()) === 2);

    await page.locator('[data-testid="contact-row"]', { hasText: "Ann Lee" }).getByRole("link").click();
    await page.waitForURL((u) => /^\/app\/contacts\/[^/]+$/.test(u.pathname));
    const keptId = decodeURIComponent(new URL(page.url()).pathname.split("/").pop());
    await page.getByTestId("contact-page").getByTestId("profile-name").waitFor();
    await page.getByTestId("merge-open").click();
    const dialog = page.getByTestId("merge-dialog");
    await dialog.getByTestId("merge-search").fill("laptop");
    const pick = dialog.getByTestId("merge-pick");
    await eventually("the other contact found", async () => (await pick.count()) === 1);
    await pick.click();
    const summary = dialog.getByTestId("merge-summary");
    assert.match((await summary.textContent()) || "", /^Ann Lee is kept/);
    assert.match((await summary.textContent()) || "", /Ann \(laptop\)'s 1 conversation/);
    await shot(page, "contacts-merge-confirm");
    await dialog.getByTestId("merge-confirm").click();
    await dialog.waitFor({ state: "detached" });
    const card = page.getByTestId("contact-page");
    await eventually("both conversations on the kept contact", async () => (await card.getByTestId("contact-conversation").count()) === 2);
    assert.equal(await card.getByTestId("profile-name").textContent(), "Ann Lee", "the kept contact's name stays");
    assert.equal(await card.getByTestId("profile-email").textContent(), "ann@example.com", "the other's email fills the blank");
    assert.equal(new URL(page.url()).pathname, "/app/contacts/" + keptId);
    await shot(page, "contacts-detail-merged");
    await page.getByText("← All contacts").click();
    await eventually("one contact left", async () => (await rows.count()) === 1);

    // 4. Back in the inbox, the phone chat's sidebar lists the laptop's (resolved) conversation,
    // which opens although the current tab does not hold it.
    await page.getByRole("link", { name: "Inbox" }).click();
    await openChat(page, "Second question");
    const earlier = panel.getByTestId("contact-conversation");
    await eventually("one earlier conversation", async () => (await earlier.count()) === 1);
    assert.match((await earlier.textContent()) || "", /Resolved/);
    assert.match((await earlier.textContent()) || "", /First question from the laptop/);
    await shot(page, "contacts-sidebar-earlier");
    assert.equal(await page.locator('[data-testid="conv-item"]', { hasText: "First question" }).count(), 0, "not in the tab");
    await earlier.click();
    await page.waitForURL((u) => u.pathname === "/app/c/" + encodeURIComponent(laptopConv));
    await page.locator('[data-testid="msg"]', { hasText: "First question from the laptop" }).waitFor();
    await page.getByTestId("reopen").waitFor();
    await eventually("the merged name on the opened chat", async () => (await page.locator(".pane-header h2").textContent()) === "Ann Lee");

    // The laptop's widget was cut off by the merge and came back as the kept contact, whose
    // latest conversation (the phone's) it now shows.
    const laptopWidget = laptop.page.frameLocator('iframe[title="Chat"]');
    await widgetConnected(laptopWidget);
    await laptopWidget.locator('[data-testid="fd-message"]', { hasText: "Second question from the phone" }).waitFor();

    assert.deepEqual(alice.pageErrors, []);
    assert.deepEqual(laptop.pageErrors, []);
    assert.deepEqual(phone.pageErrors, []);
  });
});
