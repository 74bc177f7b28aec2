/** The outbox list: what waits for one agent, Cancel before it is sent, refusals shown. */
import { expect, test } from "bun:test";
import { mount } from "@vue/test-utils";
import { nextTick } from "vue";
import { useDom } from "../testing/dom.ts";
import { testApp } from "../testing/app.ts";
import { useOutboxStore } from "../stores/outbox.ts";
import OutboxList from "./OutboxList.vue";

useDom();

test("waiting prompts show with Cancel; a cancelled one is gone for good", async () => {
  // A network that fails every call, as a browser's fetch does offline.
  const t = testApp({
    transport: {
      unary: async () => {
        throw new TypeError("Failed to fetch");
      },
      stream: async () => {
        throw new TypeError("Failed to fetch");
      },
    },
  });
  const outbox = t.run(() => useOutboxStore());
  const prompt = (text: string, key: string, agentId = "a1") =>
    outbox.send({
      key,
      agentId,
      kind: "prompt",
      payload: { promptJson: JSON.stringify([{ type: "text", text }]) },
    });
  expect(await prompt("first", "k1")).toBe("queued");
  expect(await prompt("second", "k2")).toBe("queued");
  expect(await prompt("elsewhere", "k3", "a2")).toBe("queued");
  await outbox.flush();

  const w = mount(OutboxList, { props: { agentId: "a1" } });
  const rows = () => w.findAll(".outbox-entry");
  expect(rows().map((r) => r.text())).toEqual([
    expect.stringContaining("first"),
    expect.stringContaining("second"),
  ]);
  expect(rows()[0]!.text()).toContain("Waiting to send");
  await rows()[1]!.find("button").trigger("click");
  await Bun.sleep(0);
  await nextTick();
  expect(rows().map((r) => r.text())).toEqual([expect.stringContaining("first")]);
  expect(outbox.waitingFor("a1").map((e) => e.key)).toEqual(["k1"]);
  w.unmount();
});

test("nothing waiting: nothing shown", () => {
  const t = testApp();
  t.run(() => useOutboxStore());
  const w = mount(OutboxList, { props: { agentId: "a1" } });
  expect(w.find(".outbox").exists()).toBe(false);
  w.unmount();
});
