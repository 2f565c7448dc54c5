// "Chọn tất cả" in the approval queue ticks every broadcast's box (they belong to one form).
document.addEventListener("DOMContentLoaded", () => {
  const all = document.querySelector("[data-tick-all]");
  if (!all) return;
  all.addEventListener("change", () => {
    for (const box of document.querySelectorAll('input[name="ids"][form="approve-many"]')) {
      box.checked = all.checked;
    }
  });
});
