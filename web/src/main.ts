/** The web app's entry: services made once and provided, then Pinia, the router, the shell. */
import { createPinia } from "pinia";
import { createApp } from "vue";
import App from "./App.vue";
import { browserTransport, createApi } from "./api/clients.ts";
import { LiveClient, liveUrl } from "./live/live-client.ts";
import { createAppRouter } from "./router.ts";
import { SERVICES, type Services } from "./services.ts";
import { idbCache } from "./stores/cache.ts";
import "./styles.css";

const services: Services = {
  api: createApi(browserTransport()),
  live: new LiveClient({ url: liveUrl(), window, document }),
  cache: idbCache(),
  origin: location.origin,
};

const app = createApp(App);
app.provide(SERVICES, services);
app.use(createPinia());
app.use(createAppRouter());
app.mount("#app");
