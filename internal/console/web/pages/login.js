// Login: name and password for a console session (bearer tokens are for scripts).
import { api, h, t, setSession, go } from '../lib.js';

export async function render(main) {
  const name = h('input', { name: 'name', autocomplete: 'username', required: true, id: 'login-name' });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true, id: 'login-password' });
  const msg = h('p', { class: 'hint', role: 'alert' });
  const form = h('form', {}, h('label', { for: 'login-name' }, t('login.name')), name, h('label', { for: 'login-password' }, t('login.password')), password,
    h('button', { type: 'submit', class: 'primary' }, t('login.submit')), msg);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.textContent = '';
    try {
      setSession(await api('POST', '/login', { name: name.value, password: password.value }));
      go('/ui/');
    } catch (err) {
      msg.textContent = err.message;
    }
  });
  main.append(h('div', { class: 'card login' }, h('h1', {}, t('login.title')), h('p', { class: 'sub' }, t('login.sub')), form));
  name.focus();
}
