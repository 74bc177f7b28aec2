/** The composer: slash commands, sending, images within limits, pickers, dictation. */
import { afterEach, expect, test } from "bun:test";
import { flushPromises, mount, type VueWrapper } from "@vue/test-utils";
import { checkSize, MAX_IMAGE_BYTES, type Attachment } from "../agent/images.ts";
import { EMPTY_SESSION, type SessionState } from "../agent/session.ts";
import { useDom } from "../testing/dom.ts";
import Composer from "./Composer.vue";

useDom();

const session: SessionState = {
  ...EMPTY_SESSION,
  sessionId: "s1",
  commands: [
    { name: "review", description: "Review the diff", hint: "" },
    { name: "test", description: "Run the tests", hint: "which tests" },
    { name: "retest", description: "Run failed tests again", hint: "" },
  ],
  modes: {
    current: "ask",
    available: [
      { id: "ask", name: "Ask", description: "" },
      { id: "code", name: "Code", description: "" },
    ],
  },
  configOptions: [
    {
      type: "select",
      id: "model",
      name: "Model",
      description: "",
      category: "model",
      current: "fast",
      options: [
        { value: "fast", name: "Fast", description: "", group: "" },
        { value: "smart", name: "Smart", description: "", group: "" },
      ],
    },
  ],
  acceptsImages: true,
};

const mounted: VueWrapper[] = [];
afterEach(() => {
  for (const w of mounted.splice(0)) w.unmount();
});

/** A composer whose v-models write back, as a parent's would. */
function composer(props: Record<string, unknown> = {}) {
  const w: VueWrapper = mount(Composer, {
    attachTo: document.body,
    props: {
      modelValue: "",
      images: [] as Attachment[],
      disabled: false,
      working: false,
      sending: false,
      session,
      "onUpdate:modelValue": (v: string) => w.setProps({ modelValue: v }),
      "onUpdate:images": (v: Attachment[]) => w.setProps({ images: v }),
      ...props,
    },
  });
  mounted.push(w);
  return w;
}

/** A prop's current value (the v-models write back into them). */
const prop = <T>(w: VueWrapper, name: string) => (w.props() as Record<string, unknown>)[name] as T;
const text = (w: VueWrapper) => prop<string>(w, "modelValue");
const images = (w: VueWrapper) => prop<Attachment[]>(w, "images");
const options = (w: VueWrapper) => w.findAll('[role="option"]').map((o) => o.find(".name").text());
const box = (w: VueWrapper) => w.find("textarea");

test("'/' offers the agent's commands, filtered as one types; keys and clicks choose", async () => {
  const w = composer();
  await box(w).setValue("/");
  expect(options(w)).toEqual(["/review", "/test", "/retest"]);
  await box(w).setValue("/te");
  // Names that start with it first, then those that contain it.
  expect(options(w)).toEqual(["/test", "/retest"]);
  expect(box(w).attributes("aria-activedescendant")).toBe("composer-commands-0");
  await box(w).trigger("keydown", { key: "ArrowDown" });
  expect(box(w).attributes("aria-activedescendant")).toBe("composer-commands-1");
  await box(w).trigger("keydown", { key: "Enter" });
  expect(text(w)).toBe("/retest ");
  // A name followed by a space is being given its input: no menu.
  expect(w.find('[role="listbox"]').exists()).toBe(false);
  expect(w.emitted("send")).toBeUndefined();

  await box(w).setValue("/test ");
  expect(w.find("#composer-command-hint").text()).toBe("/test which tests");
  await box(w).setValue("/rev");
  await w.find('[role="option"]').trigger("click");
  expect(text(w)).toBe("/review ");

  await box(w).setValue("/x");
  expect(w.find('[role="listbox"]').exists()).toBe(false);
  await box(w).setValue("/");
  await box(w).trigger("keydown", { key: "Escape" });
  expect(w.find('[role="listbox"]').exists()).toBe(false);
});

test("Ctrl/Cmd+Enter sends; Enter alone does not; Send is disabled when empty", async () => {
  const w = composer();
  const send = w.find('button[type="submit"]');
  expect(send.text()).toBe("Send");
  expect(send.attributes("disabled")).toBeDefined();
  await box(w).trigger("keydown", { key: "Enter", ctrlKey: true });
  expect(w.emitted("send")).toBeUndefined();
  await box(w).setValue("fix it");
  expect(send.attributes("disabled")).toBeUndefined();
  await box(w).trigger("keydown", { key: "Enter" });
  expect(w.emitted("send")).toBeUndefined();
  await box(w).trigger("keydown", { key: "Enter", ctrlKey: true });
  await box(w).trigger("keydown", { key: "Enter", metaKey: true });
  expect(w.emitted("send")).toHaveLength(2);
  expect(box(w).attributes("aria-keyshortcuts")).toBe("Control+Enter Meta+Enter");
});

test("Stop shows while the agent works and emits stop", async () => {
  const w = composer({ working: true });
  const stop = w.findAll("button").find((b) => b.text() === "Stop")!;
  await stop.trigger("click");
  expect(w.emitted("stop")).toHaveLength(1);
  await w.setProps({ working: false });
  expect(w.findAll("button").some((b) => b.text() === "Stop")).toBe(false);
});

/** Chooses files in the "Add image" input. */
async function choose(w: VueWrapper, files: File[]) {
  const input = w.find('input[type="file"]:not([capture])');
  Object.defineProperty(input.element, "files", { value: files, configurable: true });
  await input.trigger("change");
  await flushPromises();
}

const png = (name: string, bytes = 10) =>
  new File([new Uint8Array(bytes)], name, { type: "image/png" });
/** Reads a file into an attachment whose base64 is as long as the file, refusing big ones. */
const fakeRead = async (file: File): Promise<Attachment> => {
  checkSize(file.size, file.name);
  return { id: file.name, name: file.name, mimeType: file.type, data: "AAAA", url: "data:," };
};

test("images: at most five, each within the size limit, removable thumbnails", async () => {
  const w = composer({ readImage: fakeRead });
  await choose(w, [png("a.png"), png("b.png")]);
  expect(images(w).map((i) => i.name)).toEqual(["a.png", "b.png"]);
  expect(w.findAll(".image-strip img")).toHaveLength(2);
  // An image alone may be sent.
  expect(w.find('button[type="submit"]').attributes("disabled")).toBeUndefined();

  await choose(w, [png("c.png"), png("d.png"), png("e.png"), png("f.png")]);
  expect(images(w)).toHaveLength(5);
  expect(w.find('[role="alert"]').text()).toBe("At most 5 images per message.");

  await w.find('button[aria-label="Remove b.png"]').trigger("click");
  expect(images(w).map((i) => i.name)).toEqual(["a.png", "c.png", "d.png", "e.png"]);
  await choose(w, [png("huge.png", MAX_IMAGE_BYTES + 1)]);
  expect(images(w)).toHaveLength(4);
  expect(w.find('[role="alert"]').text()).toBe("huge.png is too large to send (at most 5 MB).");
});

test("pasting an image adds it; pasting text is left to the box", async () => {
  const w = composer({ readImage: fakeRead });
  const paste = (items: unknown[]) => {
    const e = new Event("paste", { cancelable: true });
    Object.defineProperty(e, "clipboardData", { value: { items } });
    box(w).element.dispatchEvent(e);
    return e;
  };
  const shot = png("shot.png");
  const e = paste([
    { kind: "string", type: "text/plain", getAsFile: () => null },
    { kind: "file", type: "image/png", getAsFile: () => shot },
  ]);
  await flushPromises();
  expect(e.defaultPrevented).toBe(true);
  expect(images(w).map((i) => i.name)).toEqual(["shot.png"]);
  expect(
    paste([{ kind: "string", type: "text/plain", getAsFile: () => null }]).defaultPrevented,
  ).toBe(false);
});

test("no image button when the agent does not take images", () => {
  const w = composer({ session: { ...session, acceptsImages: false } });
  expect(w.find('button[aria-label="Add image"]').exists()).toBe(false);
  expect(w.find('input[type="file"]').exists()).toBe(false);
});

test("the Mode and config selects ask the agent, and go back when it refuses", async () => {
  const modes: string[] = [];
  const configs: [string, string][] = [];
  const w = composer({
    setMode: async (id: string) => void modes.push(id),
    setConfig: async (id: string, value: string) => {
      configs.push([id, value]);
      throw new Error("no such model");
    },
  });
  const mode = w.find('select[aria-label="Mode"]');
  expect((mode.element as HTMLSelectElement).value).toBe("ask");
  await mode.setValue("code");
  await flushPromises();
  expect(modes).toEqual(["code"]);
  expect((mode.element as HTMLSelectElement).value).toBe("code");

  const model = w.find('select[aria-label="Model"]');
  await model.setValue("smart");
  await flushPromises();
  expect(configs).toEqual([["model", "smart"]]);
  expect((model.element as HTMLSelectElement).value).toBe("fast");
  expect(w.find(".pickers [role='alert']").text()).toBe("no such model");
});

test("a mode config option replaces the separate Mode select", () => {
  const modeOption = {
    ...session.configOptions[0]!,
    id: "m",
    name: "Session mode",
    category: "mode",
  };
  const w = composer({ session: { ...session, configOptions: [modeOption] } });
  expect(w.find('select[aria-label="Mode"]').exists()).toBe(false);
  expect(w.find('select[aria-label="Session mode"]').exists()).toBe(true);
});

test("dictation appends what was recognised and shows that it listens", async () => {
  const made: FakeRecognition[] = [];
  class FakeRecognition {
    continuous = false;
    interimResults = true;
    lang = "";
    onresult: ((e: unknown) => void) | null = null;
    onerror: ((e: unknown) => void) | null = null;
    onend: (() => void) | null = null;
    started = false;
    constructor() {
      made.push(this);
    }
    start() {
      this.started = true;
    }
    stop() {
      this.onend?.();
    }
    abort() {
      this.onend?.();
    }
  }
  const g = globalThis as Record<string, unknown>;
  g.webkitSpeechRecognition = FakeRecognition;
  try {
    const w = composer({ modelValue: "please" });
    const mic = w.find('button[aria-label="Dictate"]');
    expect(mic.attributes("aria-pressed")).toBe("false");
    await mic.trigger("click");
    expect(made[0]!.started).toBe(true);
    expect(mic.attributes("aria-pressed")).toBe("true");
    made[0]!.onresult!({
      resultIndex: 0,
      results: [Object.assign([{ transcript: " run the tests " }], { isFinal: true })],
    });
    await flushPromises();
    expect(text(w)).toBe("please run the tests");
    await mic.trigger("click");
    expect(mic.attributes("aria-pressed")).toBe("false");
  } finally {
    delete g.webkitSpeechRecognition;
  }
});
