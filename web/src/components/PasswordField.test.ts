/** The password field: labelled for screen readers and tests, typed text goes to its model. */
import { expect, test } from "bun:test";
import { mount } from "@vue/test-utils";
import { useDom } from "../testing/dom.ts";
import PasswordField from "./PasswordField.vue";

useDom();

test("the label names a required, hidden input whose text reaches v-model", async () => {
  const w = mount(PasswordField, {
    props: { id: "pw", label: "New password", autocomplete: "new-password", modelValue: "" },
  });
  expect(w.find('label[for="pw"]').text()).toBe("New password");
  const input = w.find("input#pw");
  expect(input.attributes("type")).toBe("password");
  expect(input.attributes("autocomplete")).toBe("new-password");
  expect(input.attributes("required")).toBeDefined();
  await input.setValue("secret");
  expect(w.emitted("update:modelValue")).toEqual([["secret"]]);
});
