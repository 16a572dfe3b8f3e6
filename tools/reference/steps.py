"""The 5 optimizer steps every reference fixture records."""
import torch.nn.functional as F


def run_steps(model, state, x, labels, make_optimizer, decay_filter):
    """Loads `state`, then records the cross-entropy loss of 5 steps.
    decay_filter(name, param) says which parameters get weight decay; the
    optimizer comes from make_optimizer(decay_params, other_params)."""
    model.load_state_dict(state)
    decay = [p for n, p in model.named_parameters() if decay_filter(n, p)]
    ids = {id(p) for p in decay}
    opt = make_optimizer(decay, [p for p in model.parameters() if id(p) not in ids])
    losses = []
    for _ in range(5):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), labels)
        losses.append(loss.item())
        loss.backward()
        opt.step()
    return losses
