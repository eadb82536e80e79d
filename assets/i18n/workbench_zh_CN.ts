<?xml version='1.0' encoding='utf-8'?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>App</name>
    <message>
        <source>Loading the layer library…</source>
        <translation>正在加载层库…</translation>
    </message>
</context>
<context>
    <name>Canvas</name>
    <message>
        <source>output</source>
        <translation>输出</translation>
    </message>
    <message>
        <source>%1 params</source>
        <translation>%1 个参数</translation>
    </message>
    <message>
        <source>Output: %1</source>
        <translation>输出：%1</translation>
    </message>
</context>
<context>
    <name>Category</name>
    <message>
        <source>Input / Output</source>
        <translation>输入 / 输出</translation>
    </message>
    <message>
        <source>Dense</source>
        <translation>全连接</translation>
    </message>
    <message>
        <source>Convolution</source>
        <translation>卷积</translation>
    </message>
    <message>
        <source>Pooling</source>
        <translation>池化</translation>
    </message>
    <message>
        <source>Normalization</source>
        <translation>归一化</translation>
    </message>
    <message>
        <source>Activation</source>
        <translation>激活</translation>
    </message>
    <message>
        <source>Regularization</source>
        <translation>正则化</translation>
    </message>
    <message>
        <source>Reshape</source>
        <translation>变形</translation>
    </message>
    <message>
        <source>Embedding</source>
        <translation>嵌入</translation>
    </message>
    <message>
        <source>Attention</source>
        <translation>注意力</translation>
    </message>
    <message>
        <source>Merge</source>
        <translation>合并</translation>
    </message>
    <message>
        <source>Blocks</source>
        <translation>模块</translation>
    </message>
</context>
<context>
    <name>CodeView</name>
    <message>
        <source>Code generation is not available in this build yet.</source>
        <translation>此版本尚不支持代码生成。</translation>
    </message>
    <message>
        <source>Fix the problems to see the code.</source>
        <translation>请先修复问题再查看代码。</translation>
    </message>
    <message>
        <source>Code generation failed: %1</source>
        <translation>代码生成失败：%1</translation>
    </message>
    <message>
        <source>PyTorch code of this network (read-only).</source>
        <translation>此网络的 PyTorch 代码（只读）。</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
</context>
<context>
    <name>Commands</name>
    <message>
        <source>Reconnect %1</source>
        <translation>重新连接 %1</translation>
    </message>
    <message>
        <source>Add %1</source>
        <translation>添加 %1</translation>
    </message>
    <message>
        <source>Add %1 layers</source>
        <translation>添加 %1 个层</translation>
    </message>
    <message>
        <source>Delete %1</source>
        <translation>删除 %1</translation>
    </message>
    <message>
        <source>Delete %1 layers</source>
        <translation>删除 %1 个层</translation>
    </message>
    <message>
        <source>Delete connection</source>
        <translation>删除连接</translation>
    </message>
    <message>
        <source>Delete connections</source>
        <translation>删除连接</translation>
    </message>
    <message>
        <source>Connect %1 → %2</source>
        <translation>连接 %1 → %2</translation>
    </message>
    <message>
        <source>Disconnect %1 → %2</source>
        <translation>断开 %1 → %2</translation>
    </message>
    <message>
        <source>that connection no longer exists</source>
        <translation>该连接已不存在</translation>
    </message>
    <message>
        <source>Move %1</source>
        <translation>移动 %1</translation>
    </message>
    <message>
        <source>Move %1 layers</source>
        <translation>移动 %1 个层</translation>
    </message>
    <message>
        <source>Set %1.%2</source>
        <translation>设置 %1.%2</translation>
    </message>
    <message>
        <source>Rename %1 to %2</source>
        <translation>将 %1 重命名为 %2</translation>
    </message>
    <message>
        <source>Insert %1</source>
        <translation>插入 %1</translation>
    </message>
</context>
<context>
    <name>EditActions</name>
    <message>
        <source>Cut %1 layers</source>
        <translation>剪切 %1 个层</translation>
    </message>
    <message>
        <source>The clipboard holds no layers to paste.</source>
        <translation>剪贴板中没有可粘贴的层。</translation>
    </message>
    <message>
        <source>Paste</source>
        <translation>粘贴</translation>
    </message>
    <message>
        <source>Duplicate</source>
        <translation>创建副本</translation>
    </message>
    <message>
        <source>Cannot paste: %1</source>
        <translation>无法粘贴：%1</translation>
    </message>
    <message>
        <source>Save as block</source>
        <translation>保存为模块</translation>
    </message>
    <message>
        <source>Block name (shown in the Layers panel):</source>
        <translation>模块名称（显示在“层”面板中）：</translation>
    </message>
    <message>
        <source>Saved block “%1”</source>
        <translation>已保存模块“%1”</translation>
    </message>
    <message>
        <source>Insert block %1</source>
        <translation>插入模块 %1</translation>
    </message>
    <message>
        <source>Auto-layout</source>
        <translation>自动布局</translation>
    </message>
</context>
<context>
    <name>FileActions</name>
    <message>
        <source>Cannot apply the training settings</source>
        <translation>无法应用训练设置</translation>
    </message>
    <message>
        <source>Unsaved changes</source>
        <translation>未保存的更改</translation>
    </message>
    <message>
        <source>Save the changes to “%1” before closing it?</source>
        <translation>关闭前是否保存对“%1”的更改？</translation>
    </message>
    <message>
        <source>Open project</source>
        <translation>打开项目</translation>
    </message>
    <message>
        <source>Workbench projects (*.json);;All files (*)</source>
        <translation>Workbench 项目 (*.json);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Cannot open the project</source>
        <translation>无法打开项目</translation>
    </message>
    <message>
        <source>Cannot open the preset</source>
        <translation>无法打开预设</translation>
    </message>
    <message>
        <source>Save project</source>
        <translation>保存项目</translation>
    </message>
    <message>
        <source>Workbench projects (*.json)</source>
        <translation>Workbench 项目 (*.json)</translation>
    </message>
    <message>
        <source>Cannot save the project</source>
        <translation>无法保存项目</translation>
    </message>
    <message>
        <source>Saved %1</source>
        <translation>已保存 %1</translation>
    </message>
    <message>
        <source>Clear Recent</source>
        <translation>清除最近记录</translation>
    </message>
    <message>
        <source>No recent projects</source>
        <translation>没有最近的项目</translation>
    </message>
    <message>
        <source>Restore unsaved work?</source>
        <translation>恢复未保存的工作？</translation>
    </message>
    <message>
        <source>Workbench did not close normally. Restore the unsaved changes to “%1” (autosaved %2)?</source>
        <translation>Workbench 上次未正常关闭。是否恢复对“%1”的未保存更改（自动保存于 %2）？</translation>
    </message>
</context>
<context>
    <name>Inspector</name>
    <message>
        <source>%1 layers selected</source>
        <translation>已选择 %1 个层</translation>
    </message>
    <message>
        <source>Select a layer on the canvas to edit its parameters.</source>
        <translation>在画布上选择一个层以编辑其参数。</translation>
    </message>
    <message>
        <source>This layer has no parameters.</source>
        <translation>此层没有参数。</translation>
    </message>
    <message>
        <source>Output shape: %1</source>
        <translation>输出形状：%1</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>layer name</source>
        <translation>层名称</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Layers</source>
        <translation>层</translation>
    </message>
    <message>
        <source>Inspector</source>
        <translation>检查器</translation>
    </message>
    <message>
        <source>Problems</source>
        <translation>问题</translation>
    </message>
    <message>
        <source>Model summary</source>
        <translation>模型摘要</translation>
    </message>
    <message>
        <source>Code</source>
        <translation>代码</translation>
    </message>
    <message>
        <source>&amp;New</source>
        <translation>新建(&amp;N)</translation>
    </message>
    <message>
        <source>&amp;Open…</source>
        <translation>打开(&amp;O)…</translation>
    </message>
    <message>
        <source>&amp;Save</source>
        <translation>保存(&amp;S)</translation>
    </message>
    <message>
        <source>Save &amp;As…</source>
        <translation>另存为(&amp;A)…</translation>
    </message>
    <message>
        <source>&amp;Export…</source>
        <translation>导出(&amp;E)…</translation>
    </message>
    <message>
        <source>&amp;Close Project</source>
        <translation>关闭项目(&amp;C)</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;Undo</source>
        <translation>撤销(&amp;U)</translation>
    </message>
    <message>
        <source>&amp;Redo</source>
        <translation>重做(&amp;R)</translation>
    </message>
    <message>
        <source>Cu&amp;t</source>
        <translation>剪切(&amp;T)</translation>
    </message>
    <message>
        <source>&amp;Copy</source>
        <translation>复制(&amp;C)</translation>
    </message>
    <message>
        <source>&amp;Paste</source>
        <translation>粘贴(&amp;P)</translation>
    </message>
    <message>
        <source>D&amp;uplicate</source>
        <translation>创建副本(&amp;U)</translation>
    </message>
    <message>
        <source>&amp;Delete</source>
        <translation>删除(&amp;D)</translation>
    </message>
    <message>
        <source>Select &amp;All</source>
        <translation>全选(&amp;A)</translation>
    </message>
    <message>
        <source>Save Selection as &amp;Block…</source>
        <translation>将所选保存为模块(&amp;B)…</translation>
    </message>
    <message>
        <source>Pre&amp;ferences…</source>
        <translation>首选项(&amp;F)…</translation>
    </message>
    <message>
        <source>Zoom &amp;In</source>
        <translation>放大(&amp;I)</translation>
    </message>
    <message>
        <source>Zoom &amp;Out</source>
        <translation>缩小(&amp;O)</translation>
    </message>
    <message>
        <source>&amp;Actual Size</source>
        <translation>实际大小(&amp;A)</translation>
    </message>
    <message>
        <source>&amp;Fit to Window</source>
        <translation>适应窗口(&amp;F)</translation>
    </message>
    <message>
        <source>Auto-&amp;layout</source>
        <translation>自动布局(&amp;L)</translation>
    </message>
    <message>
        <source>&amp;Snap to Grid</source>
        <translation>对齐网格(&amp;S)</translation>
    </message>
    <message>
        <source>&amp;Train</source>
        <translation>训练(&amp;T)</translation>
    </message>
    <message>
        <source>&amp;Stop</source>
        <translation>停止(&amp;S)</translation>
    </message>
    <message>
        <source>&amp;About Workbench</source>
        <translation>关于 Workbench(&amp;A)</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>Open &amp;Preset</source>
        <translation>打开预设(&amp;P)</translation>
    </message>
    <message>
        <source>Open &amp;Recent</source>
        <translation>最近打开(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Edit</source>
        <translation>编辑(&amp;E)</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <source>&amp;Panels</source>
        <translation>面板(&amp;P)</translation>
    </message>
    <message>
        <source>&amp;Run</source>
        <translation>运行(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>Main toolbar</source>
        <translation>主工具栏</translation>
    </message>
    <message>
        <source>Train the network (F5)</source>
        <translation>训练网络 (F5)</translation>
    </message>
    <message>
        <source>Arrange layers left to right by depth (Ctrl+L)</source>
        <translation>按深度从左到右排列各层 (Ctrl+L)</translation>
    </message>
    <message>
        <source>Drag layers here from the Layers panel,
then drag from an output port to an input port to connect them.</source>
        <translation>从“层”面板把层拖到这里，
再从输出端口拖到输入端口来连接它们。</translation>
    </message>
    <message>
        <source>&amp;Undo %1</source>
        <translation>撤销 %1(&amp;U)</translation>
    </message>
    <message>
        <source>&amp;Redo %1</source>
        <translation>重做 %1(&amp;R)</translation>
    </message>
    <message>
        <source>%1 layers</source>
        <translation>%1 个层</translation>
    </message>
    <message>
        <source>1 layer</source>
        <translation>1 个层</translation>
    </message>
    <message>
        <source>%1 errors</source>
        <translation>%1 个错误</translation>
    </message>
    <message>
        <source>1 error</source>
        <translation>1 个错误</translation>
    </message>
    <message>
        <source>%1 warnings</source>
        <translation>%1 个警告</translation>
    </message>
    <message>
        <source>1 warning</source>
        <translation>1 个警告</translation>
    </message>
    <message>
        <source>ready to train</source>
        <translation>可以训练</translation>
    </message>
    <message>
        <source>Fix the problems before training.</source>
        <translation>请先修复问题再训练。</translation>
    </message>
    <message>
        <source>Training is not available in this build yet.</source>
        <translation>此版本尚不支持训练。</translation>
    </message>
    <message>
        <source>Export is not available in this build yet.</source>
        <translation>此版本尚不支持导出。</translation>
    </message>
    <message>
        <source>About Workbench</source>
        <translation>关于 Workbench</translation>
    </message>
    <message>
        <source>&lt;b&gt;Workbench&lt;/b&gt;&lt;br&gt;Design neural networks by drawing them, train them live, export them verified.</source>
        <translation>&lt;b&gt;Workbench&lt;/b&gt;&lt;br&gt;通过绘图设计神经网络，实时训练，导出并验证。</translation>
    </message>
</context>
<context>
    <name>Palette</name>
    <message>
        <source>Search layers…</source>
        <translation>搜索层…</translation>
    </message>
</context>
<context>
    <name>PreferencesDialog</name>
    <message>
        <source>Preferences</source>
        <translation>首选项</translation>
    </message>
    <message>
        <source>System language</source>
        <translation>系统语言</translation>
    </message>
    <message>
        <source>Follow the system</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <source>Light</source>
        <translation>浅色</translation>
    </message>
    <message>
        <source>Dark</source>
        <translation>深色</translation>
    </message>
    <message>
        <source>Snap cards to the grid</source>
        <translation>卡片对齐网格</translation>
    </message>
    <message>
        <source> s</source>
        <translation> 秒</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <source>Theme</source>
        <translation>主题</translation>
    </message>
    <message>
        <source>Autosave every</source>
        <translation>自动保存间隔</translation>
    </message>
</context>
<context>
    <name>PresetCard</name>
    <message>
        <source>%1 · %2 data · %3 params</source>
        <translation>%1 · %2 数据 · %3 个参数</translation>
    </message>
    <message>
        <source>Open the preset “%1”</source>
        <translation>打开预设“%1”</translation>
    </message>
</context>
<context>
    <name>ProblemsPanel</name>
    <message>
        <source>No problems: the network is ready to train.</source>
        <translation>没有问题：网络可以训练了。</translation>
    </message>
    <message>
        <source>Problem</source>
        <translation>问题</translation>
    </message>
    <message>
        <source>Layer</source>
        <translation>层</translation>
    </message>
</context>
<context>
    <name>StartPage</name>
    <message>
        <source>No recent projects yet.</source>
        <translation>还没有最近的项目。</translation>
    </message>
    <message>
        <source>Design a neural network by drawing it, train it, export it.</source>
        <translation>画出神经网络，训练它，导出它。</translation>
    </message>
    <message>
        <source>New project</source>
        <translation>新建项目</translation>
    </message>
    <message>
        <source>Open…</source>
        <translation>打开…</translation>
    </message>
    <message>
        <source>Start from a preset</source>
        <translation>从预设开始</translation>
    </message>
    <message>
        <source>Recent projects</source>
        <translation>最近的项目</translation>
    </message>
    <message>
        <source>Loading presets…</source>
        <translation>正在加载预设…</translation>
    </message>
</context>
<context>
    <name>SummaryPanel</name>
    <message>
        <source>Fix the problems listed in the Problems panel to see the summary.</source>
        <translation>请先修复“问题”面板中列出的问题再查看摘要。</translation>
    </message>
    <message>
        <source>No summary: %1</source>
        <translation>无摘要：%1</translation>
    </message>
    <message>
        <source>&lt;b&gt;%1&lt;/b&gt; parameters · &lt;b&gt;%2&lt;/b&gt; weights (fp32) · &lt;b&gt;%3&lt;/b&gt; FLOPs per sample · training memory ≈ &lt;b&gt;%4&lt;/b&gt; at batch %5</source>
        <translation>&lt;b&gt;%1&lt;/b&gt; 个参数 · 权重 &lt;b&gt;%2&lt;/b&gt; (fp32) · 每样本 &lt;b&gt;%3&lt;/b&gt; FLOPs · 批大小 %5 时训练内存 ≈ &lt;b&gt;%4&lt;/b&gt;</translation>
    </message>
    <message>
        <source>Batch size</source>
        <translation>批大小</translation>
    </message>
    <message>
        <source>Layer</source>
        <translation>层</translation>
    </message>
    <message>
        <source>Type</source>
        <translation>类型</translation>
    </message>
    <message>
        <source>Output shape</source>
        <translation>输出形状</translation>
    </message>
    <message>
        <source>Params</source>
        <translation>参数</translation>
    </message>
    <message>
        <source>FLOPs</source>
        <translation>FLOPs</translation>
    </message>
</context>
<context>
    <name>Task</name>
    <message>
        <source>classification</source>
        <translation>分类</translation>
    </message>
    <message>
        <source>regression</source>
        <translation>回归</translation>
    </message>
    <message>
        <source>language model</source>
        <translation>语言模型</translation>
    </message>
    <message>
        <source>unknown</source>
        <translation>未知</translation>
    </message>
</context>
<context>
    <name>ExportDialog</name>
    <message>
        <source>Export</source>
        <translation>导出</translation>
    </message>
    <message>
        <source>Trained run</source>
        <translation>已训练的运行</translation>
    </message>
    <message>
        <source>Choose folder…</source>
        <translation>选择文件夹…</translation>
    </message>
    <message>
        <source>Formats</source>
        <translation>格式</translation>
    </message>
    <message>
        <source>ONNX (.onnx), checked with onnxruntime</source>
        <translation>ONNX（.onnx），经 onnxruntime 校验</translation>
    </message>
    <message>
        <source>PyTorch weights (.safetensors)</source>
        <translation>PyTorch 权重（.safetensors）</translation>
    </message>
    <message>
        <source>PyTorch program (.pt2, torch.export)</source>
        <translation>PyTorch 程序（.pt2，torch.export）</translation>
    </message>
    <message>
        <source>Python code (.py) that rebuilds the network</source>
        <translation>重建网络的 Python 代码（.py）</translation>
    </message>
    <message>
        <source>Compression</source>
        <translation>压缩</translation>
    </message>
    <message>
        <source>int8, dynamic</source>
        <translation>int8，动态</translation>
    </message>
    <message>
        <source>int8, static (calibrated)</source>
        <translation>int8，静态（校准）</translation>
    </message>
    <message>
        <source>fp16</source>
        <translation>fp16</translation>
    </message>
    <message>
        <source>int8 weights; activations are quantized at run time. About a quarter of the size.</source>
        <translation>int8 权重；激活在运行时量化。大小约为原来的四分之一。</translation>
    </message>
    <message>
        <source>int8 weights and activations, calibrated on training batches.</source>
        <translation>int8 权重和激活，用训练批次校准。</translation>
    </message>
    <message>
        <source>Half-precision weights and compute: half the size.</source>
        <translation>半精度权重和计算：大小减半。</translation>
    </message>
    <message>
        <source>Global magnitude pruning: this share of the Linear/Conv weights is set to zero.</source>
        <translation>全局幅值剪枝：将此比例的 Linear/Conv 权重置零。</translation>
    </message>
    <message>
        <source>Channel pruning: this share of each layer&apos;s channels is removed; the file gets smaller.</source>
        <translation>通道剪枝：移除每层此比例的通道；文件随之变小。</translation>
    </message>
    <message>
        <source>none</source>
        <translation>无</translation>
    </message>
    <message>
        <source> epochs</source>
        <translation> 轮</translation>
    </message>
    <message>
        <source>Training after pruning, to win back accuracy.</source>
        <translation>剪枝后继续训练，以恢复准确率。</translation>
    </message>
    <message>
        <source>Quantization</source>
        <translation>量化</translation>
    </message>
    <message>
        <source>Magnitude pruning</source>
        <translation>幅值剪枝</translation>
    </message>
    <message>
        <source>Channel pruning</source>
        <translation>通道剪枝</translation>
    </message>
    <message>
        <source>Fine-tune after pruning</source>
        <translation>剪枝后微调</translation>
    </message>
    <message>
        <source>Output folder</source>
        <translation>输出文件夹</translation>
    </message>
    <message>
        <source>Folder for the files and report.md</source>
        <translation>存放文件和 report.md 的文件夹</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <source>Report</source>
        <translation>报告</translation>
    </message>
    <message>
        <source>★ recommended: the smallest file within one point of the original&apos;s accuracy (or 2% of its validation loss). ◆ best trade-off: no other variant is at least as small, as fast and as accurate while better in one of them.</source>
        <translation>★ 推荐：准确率与原模型相差不超过 1 个百分点（或验证损失相差不超过 2%）的最小文件。◆ 最佳权衡：没有其他变体在大小、速度和准确率上都不差且至少一项更好。</translation>
    </message>
    <message>
        <source>Open output folder</source>
        <translation>打开输出文件夹</translation>
    </message>
    <message>
        <source>Cancel export</source>
        <translation>取消导出</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>off</source>
        <translation>关</translation>
    </message>
    <message>
        <source>No runs in %1</source>
        <translation>%1 中没有运行</translation>
    </message>
    <message>
        <source>1 epoch</source>
        <translation>1 轮</translation>
    </message>
    <message>
        <source>%1 epochs</source>
        <translation>%1 轮</translation>
    </message>
    <message>
        <source>val acc %1</source>
        <translation>验证准确率 %1</translation>
    </message>
    <message>
        <source>val loss %1</source>
        <translation>验证损失 %1</translation>
    </message>
    <message>
        <source>stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>stopped early</source>
        <translation>提前停止</translation>
    </message>
    <message>
        <source>Choose a run folder</source>
        <translation>选择运行文件夹</translation>
    </message>
    <message>
        <source>Choose the output folder</source>
        <translation>选择输出文件夹</translation>
    </message>
    <message>
        <source>Quantization works on the ONNX file.</source>
        <translation>量化作用于 ONNX 文件。</translation>
    </message>
    <message>
        <source>The generated code loads its weights from the safetensors file.</source>
        <translation>生成的代码从 safetensors 文件加载权重。</translation>
    </message>
    <message>
        <source>Choose a trained run: train the project first (Run &gt; Train), or choose a run folder.</source>
        <translation>请选择一个已训练的运行：先训练项目（运行 &gt; 训练），或选择一个运行文件夹。</translation>
    </message>
    <message>
        <source>Choose at least one format.</source>
        <translation>请至少选择一种格式。</translation>
    </message>
    <message>
        <source>Choose an output folder.</source>
        <translation>请选择输出文件夹。</translation>
    </message>
    <message>
        <source>%1 is a file — choose a folder for the export.</source>
        <translation>%1 是一个文件——请为导出选择一个文件夹。</translation>
    </message>
    <message>
        <source>The output folder is not empty: files with the same names are replaced.</source>
        <translation>输出文件夹不为空：同名文件将被替换。</translation>
    </message>
    <message>
        <source>Loading the run…</source>
        <translation>正在加载运行…</translation>
    </message>
    <message>
        <source>The export stopped without a result.</source>
        <translation>导出已结束，但没有结果。</translation>
    </message>
    <message>
        <source>Cancelling… (at the end of the current step)</source>
        <translation>正在取消…（当前步骤结束时）</translation>
    </message>
    <message>
        <source>Done</source>
        <translation>完成</translation>
    </message>
    <message>
        <source>Exported %1 variant(s) to %2 (report.md has the details).</source>
        <translation>已将 %1 个变体导出到 %2（详见 report.md）。</translation>
    </message>
    <message>
        <source>Files: %1</source>
        <translation>文件：%1</translation>
    </message>
    <message>
        <source>variant</source>
        <translation>变体</translation>
    </message>
    <message>
        <source>size</source>
        <translation>大小</translation>
    </message>
    <message>
        <source>params</source>
        <translation>参数</translation>
    </message>
    <message>
        <source>non-zero</source>
        <translation>非零</translation>
    </message>
    <message>
        <source>val acc</source>
        <translation>验证准确率</translation>
    </message>
    <message>
        <source>val loss</source>
        <translation>验证损失</translation>
    </message>
    <message>
        <source>ORT ms b1</source>
        <translation>ORT 毫秒 b1</translation>
    </message>
    <message>
        <source>ORT ms b64</source>
        <translation>ORT 毫秒 b64</translation>
    </message>
    <message>
        <source>PyTorch ms b1 / b64</source>
        <translation>PyTorch 毫秒 b1 / b64</translation>
    </message>
    <message>
        <source>max abs diff</source>
        <translation>最大绝对差</translation>
    </message>
    <message>
        <source>Size of the deployable file (ONNX if written)</source>
        <translation>可部署文件的大小（若已导出则为 ONNX）</translation>
    </message>
    <message>
        <source>Parameters that are not zero (magnitude pruning zeroes weights)</source>
        <translation>非零参数（幅值剪枝会将权重置零）</translation>
    </message>
    <message>
        <source>onnxruntime latency on this CPU, batch of 1 (median, milliseconds)</source>
        <translation>本机 CPU 上的 onnxruntime 延迟，批大小 1（中位数，毫秒）</translation>
    </message>
    <message>
        <source>onnxruntime latency on this CPU, batch of 64 (median, milliseconds)</source>
        <translation>本机 CPU 上的 onnxruntime 延迟，批大小 64（中位数，毫秒）</translation>
    </message>
    <message>
        <source>PyTorch latency of the original model, batch 1 / 64 (milliseconds)</source>
        <translation>原模型的 PyTorch 延迟，批大小 1 / 64（毫秒）</translation>
    </message>
    <message>
        <source>Largest difference from the original PyTorch model&apos;s outputs</source>
        <translation>与原 PyTorch 模型输出的最大差值</translation>
    </message>
    <message>
        <source>Cannot open %1 here — open it in your file manager.</source>
        <translation>无法在此打开 %1——请在文件管理器中打开。</translation>
    </message>
</context>
</TS>