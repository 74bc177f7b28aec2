/**
 * Voice dictation through the browser's speech recognition (Web Speech API), where there is
 * one: Chrome and Safari have it (prefixed), Firefox does not, and then no button is shown.
 * Each final phrase goes to `onText`; the recognition ends with the scope that started it.
 */
import { onScopeDispose, ref, type Ref } from "vue";

/** The part of SpeechRecognition used here (TypeScript's DOM library has no types for it). */
interface Recognition {
  continuous: boolean;
  interimResults: boolean;
  lang: string;
  onresult: ((e: RecognitionResultEvent) => void) | null;
  onerror: ((e: { error: string }) => void) | null;
  onend: (() => void) | null;
  start(): void;
  stop(): void;
  abort(): void;
}

interface RecognitionResultEvent {
  resultIndex: number;
  results: ArrayLike<{ isFinal: boolean; 0: { transcript: string } }>;
}

type RecognitionConstructor = new () => Recognition;

/** The browser's SpeechRecognition, or null when it has none. */
export function speechRecognition(): RecognitionConstructor | null {
  if (typeof window === "undefined") return null;
  const w = window as unknown as Record<string, RecognitionConstructor | undefined>;
  return w.SpeechRecognition ?? w.webkitSpeechRecognition ?? null;
}

/** Words for the errors the API names (the others are its own codes, shown as they are). */
const ERRORS: Record<string, string> = {
  "not-allowed": "Microphone access was refused.",
  "service-not-allowed": "Dictation is not allowed in this browser.",
  "audio-capture": "No microphone was found.",
  network: "Dictation needs a network connection.",
};

export interface Dictation {
  supported: boolean;
  listening: Ref<boolean>;
  error: Ref<string | null>;
  toggle(): void;
  stop(): void;
}

export function useDictation(onText: (text: string) => void): Dictation {
  const Ctor = speechRecognition();
  const listening = ref(false);
  const error = ref<string | null>(null);
  let rec: Recognition | null = null;

  function start(): void {
    if (!Ctor) return;
    error.value = null;
    const r = new Ctor();
    r.continuous = true;
    r.interimResults = false;
    r.lang = navigator.language || "en-US";
    r.onresult = (e) => {
      for (let i = e.resultIndex; i < e.results.length; i++) {
        const result = e.results[i]!;
        const text = result[0].transcript.trim();
        if (result.isFinal && text) onText(text);
      }
    };
    // "no-speech" and "aborted" end a quiet or stopped session: nothing went wrong.
    r.onerror = (e) => {
      if (e.error !== "no-speech" && e.error !== "aborted")
        error.value = ERRORS[e.error] ?? e.error;
    };
    r.onend = () => {
      if (rec === r) rec = null;
      listening.value = false;
    };
    rec = r;
    try {
      r.start();
      listening.value = true;
    } catch (e) {
      rec = null;
      error.value = (e as Error).message;
    }
  }

  function stop(): void {
    rec?.stop();
  }

  onScopeDispose(() => {
    rec?.abort();
    rec = null;
  });

  return {
    supported: Ctor !== null,
    listening,
    error,
    toggle: () => (listening.value ? stop() : start()),
    stop,
  };
}
